import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONDITION_OPERATORS,
  checkCondition,
  evaluateCondition,
  explainCondition,
  renderTemplate,
  templateTokens,
} from './index.ts';

const gift = {
  eventType: 'GIFT',
  user: { userId: '6800000000000000001', uniqueId: 'ana_1', displayName: 'Ana', followRole: 1 },
  payload: { giftName: 'Rose', giftCount: 5, coins: 5, isGiftStreak: true, emotes: [{ emoteId: 'e1' }], groupId: null },
};

/** `levels` operations nested in one another around `{"var": "x"}` (which is one of them). */
const nested = (levels: number): unknown => (levels === 1 ? { var: 'x' } : { '!': nested(levels - 1) });

describe('checkCondition', () => {
  it('accepts conditions made of the allowed operators, and {} (always)', () => {
    const valid = [
      {},
      { '>=': [{ var: 'payload.coins' }, 5] },
      { and: [{ '==': [{ var: 'eventType' }, 'GIFT'] }, { or: [{ in: ['vip', { var: 'user.uniqueId' }] }, { '!': { var: 'payload.isGiftStreak' } }] }] },
      { some: [{ var: 'payload.emotes' }, { '===': [{ var: 'emoteId' }, 'e1'] }] },
      { if: [{ '<': [0, { var: ['payload.coins', 0] }, 100] }, 'small', { '?:': [true, 'big', 'none'] }] },
      { missing_some: [1, ['user.displayName', 'user.uniqueId']] },
      { '/': [{ '*': [{ var: 'payload.coins' }, 2] }, { max: [1, { min: [3, 4] }] }] },
      { var: 1 },
      { var: '' },
      true,
    ];
    for (const rule of valid) expect(checkCondition(rule), JSON.stringify(rule)).toEqual([]);
    for (const operator of CONDITION_OPERATORS) expect(checkCondition({ [operator]: [1, 2] }), operator).toEqual([]);
    expect(CONDITION_OPERATORS.size).toBe(31);
  });

  it('lists every operator outside the allow-list, where it is', () => {
    const rule = {
      and: [
        { method: [{ var: 'user.uniqueId' }, 'toUpperCase'] },
        { '==': [{ log: 'hi' }, 1] },
        { map: [{ var: 'payload.emotes' }, { var: 'emoteId' }] },
        { '==': [1, 1] },
        { 'Math.abs': -1 },
      ],
    };
    expect(checkCondition(rule)).toEqual([
      '/and/0 uses the unknown operator "method"',
      '/and/1/==/0 uses the unknown operator "log"',
      '/and/2 uses the unknown operator "map"',
      '/and/4 uses the unknown operator "Math.abs"',
    ]);
  });

  it('refuses nesting deeper than maxDepth, cycles included', () => {
    expect(checkCondition(nested(16))).toEqual([]);
    expect(checkCondition(nested(17))).toEqual([`${'/!'.repeat(16)} nests deeper than 16 levels`]);
    expect(checkCondition(nested(5), { maxDepth: 4 })).toEqual(['/!/!/!/! nests deeper than 4 levels']);
    // Literal arrays are levels too.
    expect(checkCondition({ in: [1, [[[1]]]] }, { maxDepth: 3 })).toEqual(['/in/1/0/0 nests deeper than 3 levels']);

    const cyclic: Record<string, unknown[]> = { and: [] };
    cyclic.and!.push(cyclic);
    expect(checkCondition(cyclic)).toEqual([`${'/and/0'.repeat(16)} nests deeper than 16 levels`]);
  });

  it('lists values that are not JSON, escaping operators in the pointer', () => {
    const rule = {
      and: [
        { '/': [1, undefined] },
        { '==': [Number.NaN, Infinity] },
        { '==': [() => true, 10n] },
        { in: [new Date(0), new Map()] },
        { '==': [1], '!=': [2] },
      ],
    };
    expect(checkCondition(rule)).toEqual([
      '/and/0/~1/1 is undefined, not a JSON value',
      '/and/1/==/0 is NaN, not a JSON number',
      '/and/1/==/1 is Infinity, not a JSON number',
      '/and/2/==/0 is a function, not a JSON value',
      '/and/2/==/1 is a bigint, not a JSON value',
      '/and/3/in/0 is a Date object, not a JSON value',
      '/and/3/in/1 is a Map object, not a JSON value',
      '/and/4 is an object with 2 keys; an operation has exactly one, its operator',
    ]);
    expect(checkCondition(undefined)).toEqual(['(root) is undefined, not a JSON value']);
  });

  it('refuses var paths that are computed or lead to a prototype', () => {
    expect(
      checkCondition({
        or: [{ var: { cat: ['construc', 'tor'] } }, { var: ['user.constructor', 0] }, { var: '__proto__' }, { '==': [{ var: 'payload.prototype' }, 1] }],
      }),
    ).toEqual([
      '/or/0/var is a computed var path; a var path is a literal string or number',
      '/or/1/var/0 is a var path through "constructor", which is not data',
      '/or/2/var is a var path through "__proto__", which is not data',
      '/or/3/==/0/var is a var path through "prototype", which is not data',
    ]);
  });
});

describe('evaluateCondition', () => {
  it('evaluates JSON Logic against the data', () => {
    expect(evaluateCondition({ '>=': [{ var: 'payload.coins' }, 5] }, gift)).toBe(true);
    expect(evaluateCondition({ '>=': [{ var: 'payload.coins' }, 6] }, gift)).toBe(false);
    expect(evaluateCondition({ in: ['ana', { var: 'user.uniqueId' }] }, gift)).toBe(true);
    expect(evaluateCondition({ some: [{ var: 'payload.emotes' }, { '==': [{ var: 'emoteId' }, 'e1'] }] }, gift)).toBe(true);
    expect(evaluateCondition({ var: 'payload.nothing' }, gift)).toBe(false);
    expect(evaluateCondition({}, gift)).toBe(true);
    // JSON Logic truthiness: an empty array is false.
    expect(evaluateCondition({ merge: [] }, gift)).toBe(false);
  });

  it('throws with every problem instead of running an unsafe condition', () => {
    expect(() => evaluateCondition({ and: [{ method: [{ var: 'user' }, 'toString'] }, { var: 'constructor' }] }, gift)).toThrow(
      'invalid condition:\n  - /and/0 uses the unknown operator "method"\n  - /and/1/var is a var path through "constructor", which is not data',
    );
    expect(() => evaluateCondition(nested(3), gift, { maxDepth: 2 })).toThrow('nests deeper than 2 levels');
  });
});

describe('explainCondition', () => {
  it('names a failed comparison with the value it saw', () => {
    expect(explainCondition({ '>=': [{ var: 'payload.coins' }, 100] }, gift)).toEqual({
      matched: false,
      reasons: ['payload.coins (5) >= 100 is false'],
    });
    expect(explainCondition({}, gift)).toEqual({ matched: true, reasons: ['no condition: always matches'] });
  });

  it('explains and/or by the sub-conditions that decided them', () => {
    const rule = {
      and: [
        { '==': [{ var: 'eventType' }, 'GIFT'] },
        { '>=': [{ var: 'payload.coins' }, 100] },
        { or: [{ '==': [{ var: 'user.followRole' }, 2] }, { in: ['vip', { var: 'user.uniqueId' }] }] },
      ],
    };
    expect(explainCondition(rule, gift)).toEqual({
      matched: false,
      reasons: ['payload.coins (5) >= 100 is false', 'user.followRole (1) == 2 is false', '"vip" in user.uniqueId ("ana_1") is false'],
    });

    const anyOf = { or: [{ '>': [{ var: 'payload.coins' }, 1] }, { var: 'payload.isGiftStreak' }, { '==': [{ var: 'missing.path' }, 1] }] };
    expect(explainCondition(anyOf, gift)).toEqual({
      matched: true,
      reasons: ['payload.coins (5) > 1 is true', 'payload.isGiftStreak (true) is true'],
    });
  });

  it('writes other operators as calls, nested arithmetic in parentheses, long values shortened', () => {
    const rule = {
      and: [
        { '!': { '<': [0, { '-': [{ var: 'payload.coins' }, 1] }, 10] } },
        { '==': [{ cat: [{ var: 'user.displayName' }, '!'] }, 'Bo!'] },
        { '==': [{ var: 'payload' }, 1] },
        { none: [{ var: 'payload.emotes' }, { '==': [{ var: 'emoteId' }, 'e1'] }] },
      ],
    };
    expect(explainCondition(rule, gift).reasons).toEqual([
      '!(0 < (payload.coins (5) - 1) < 10) is false',
      'cat(user.displayName ("Ana"), "!") == "Bo!" is false',
      'payload ({"giftName":"Rose","giftCount":5,"coins":5,"isGiftStreak":t…) == 1 is false',
      'none(payload.emotes ([{"emoteId":"e1"}]), {"==":[{"var":"emoteId"},"e1"]}) is false',
    ]);
  });

  it('agrees with evaluateCondition and always gives a reason', () => {
    const data = { a: 1, b: 0, s: 'text', list: [1, 2], none: null };
    const leaf = fc.oneof(
      fc.constantFrom('a', 'b', 's', 'list', 'none', 'absent').map((path) => ({ var: path })),
      fc.constantFrom(0, 1, 2, 'text', '', true, false, null),
    );
    const condition = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.tuple(fc.constantFrom('==', '!=', '>', '<=', 'in'), leaf, leaf).map(([operator, left, right]) => ({ [operator]: [left, right] })),
        fc.tuple(fc.constantFrom('and', 'or'), fc.array(tie('node'), { maxLength: 3 })).map(([operator, args]) => ({ [operator]: args })),
        tie('node').map((inner) => ({ '!': inner })),
      ),
    })).node;
    fc.assert(
      fc.property(condition, (rule) => {
        fc.pre(checkCondition(rule).length === 0);
        const explanation = explainCondition(rule, data);
        expect(explanation.matched).toBe(evaluateCondition(rule, data));
        expect(explanation.reasons.length).toBeGreaterThan(0);
        expect(explanation.reasons.every((reason) => reason.endsWith(` is ${explanation.matched}`))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('renderTemplate', () => {
  it('fills dotted paths: text as is, numbers and booleans as written, objects as JSON', () => {
    expect(renderTemplate('{user.displayName} sent {payload.giftName} ×{payload.giftCount} ({payload.isGiftStreak})', gift)).toEqual({
      text: 'Ana sent Rose ×5 (true)',
      missing: [],
    });
    expect(renderTemplate('{payload.emotes.0.emoteId} of {payload.emotes.length}: {payload.emotes}', gift).text).toBe('e1 of 1: [{"emoteId":"e1"}]');
  });

  it('renders a path without a value as empty text and lists it once', () => {
    expect(renderTemplate('Hi {user.nickname}{user.nickname}, group {payload.groupId}, {user.displayName}!', gift)).toEqual({
      text: 'Hi , group , Ana!',
      missing: ['user.nickname', 'payload.groupId'],
    });
  });

  it('reads own fields only, never the prototype', () => {
    expect(renderTemplate('{constructor}{user.__proto__}{toString}{payload.giftName.length}', gift)).toEqual({
      text: '',
      missing: ['constructor', 'user.__proto__', 'toString', 'payload.giftName.length'],
    });
  });

  it('takes {{ and }} as literal braces', () => {
    expect(renderTemplate('{{user}} {{{user.uniqueId}}}', gift).text).toBe('{user} {ana_1}');
    expect(renderTemplate('{{"text": "{user.displayName}", "coins": {payload.coins}}}', gift).text).toBe('{"text": "Ana", "coins": 5}');
  });

  it('refuses a brace that is neither a token nor escaped, and anything like an expression', () => {
    const malformed: Array<[string, string]> = [
      ['{', '"{" at 0 does not start a {dotted.path} token'],
      ['a}b', '"}" at 1 closes nothing'],
      ['{user.displayName', '"{" at 0 does not start'],
      ['x {}', '"{" at 2 does not start'],
      ['{ user }', '"{" at 0 does not start'],
      ['{user.}', '"{" at 0 does not start'],
      ['{payload.coins * 2}', '"{" at 0 does not start'],
      ['{user["uniqueId"]}', '"{" at 0 does not start'],
      ['{"json": 1}', '"{" at 0 does not start'],
    ];
    for (const [template, message] of malformed) {
      expect(() => renderTemplate(template, gift), template).toThrow(message);
      expect(() => templateTokens(template), template).toThrow(message);
    }
  });
});

describe('templateTokens', () => {
  it('lists each token path once, in order', () => {
    expect(templateTokens('{user.displayName}: {payload.coins} {{literal}} {user.displayName} {payload.emotes.0.emoteId}')).toEqual([
      'user.displayName',
      'payload.coins',
      'payload.emotes.0.emoteId',
    ]);
    expect(templateTokens('no tokens {{here}}')).toEqual([]);
  });
});
