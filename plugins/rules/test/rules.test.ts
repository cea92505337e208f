import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { UnifiedEvent, UnifiedEventOf } from '@ttlp/sdk';
import type { HttpCall } from '@ttlp/sdk/sandbox';
import { createTestHost, makeEvent, ROOMY_CPU_LIMITS, type TestHost, type TestHostOptions } from '@ttlp/sdk/testing';
import { captureEvents, captureFiles } from '../../../host/test/support/captures.ts';
import { waitFor } from '../../../host/test/support/patience.ts';
import { dryRun, type OverlayMessage } from '../src/dry-run.ts';
import { LogBudget } from '../src/log-budget.ts';
import type { Rule } from '../src/rule.ts';

const pluginDir = fileURLToPath(new URL('..', import.meta.url));

const hosts: TestHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

async function startHost(config: Record<string, unknown>, options: Partial<TestHostOptions> = {}): Promise<TestHost> {
  const host = await createTestHost({ plugin: pluginDir, config, ...options, limits: { ...ROOMY_CPU_LIMITS, ...options.limits } });
  hosts.push(host);
  return host;
}

/** A rule with the defaults the config schema fills in. */
const rule = (fields: Partial<Rule> & Pick<Rule, 'id' | 'actions'>): Rule => ({ name: fields.id, enabled: true, events: [], condition: {}, ...fields });

type GiftEvent = UnifiedEventOf<'GIFT'>;
const isGift = (event: UnifiedEvent): event is GiftEvent => event.eventType === 'GIFT';
const distinct = <E extends UnifiedEvent>(events: E[]) => [...new Map(events.map((event) => [event.eventId, event])).values()];

/** Every capture, one session per file, in file order. */
const allCaptureEvents = captureFiles().flatMap((file) => captureEvents(file));

const gift = (coins: number, user: Partial<UnifiedEvent['user']> = {}) =>
  makeEvent('GIFT', { giftId: 5655, giftName: 'Rose', giftCount: coins, coins, diamondCount: 1, isGiftStreak: false }, { user });

describe('rules on the real captures', () => {
  it('fire once per Rose combo, or at each of its gifts, as the combos of the captures say', async () => {
    const roses = distinct(allCaptureEvents.filter(isGift)).filter((event) => event.payload!.giftName === 'Rose');
    // Worked out from the messages themselves: a combo is a sender's groupId for one gift; a
    // message without a groupId cannot be matched up, so only its end counts.
    const once: string[] = [];
    const each: string[] = [];
    const highest = new Map<string, number>();
    for (const event of roses) {
      const { isGiftStreak, groupId, giftId, giftCount, streakEnd } = event.payload!;
      if (!isGiftStreak || groupId === undefined) {
        if (!isGiftStreak || streakEnd) once.push(event.eventId), each.push(event.eventId);
        continue;
      }
      const key = `${event.user.userId}:${groupId}:${giftId}`;
      if (!highest.has(key)) once.push(event.eventId);
      if (giftCount > (highest.get(key) ?? 0)) each.push(event.eventId);
      highest.set(key, Math.max(giftCount, highest.get(key) ?? 0));
    }
    expect(once.length).toBeGreaterThan(3);
    expect(each.length).toBeGreaterThan(once.length);

    const host = await startHost({
      rules: [
        { id: 'once', name: 'A Rose combo', trigger: 'gift', giftName: 'rose', combo: 'once', actions: [{ type: 'overlay', template: 'once' }] },
        { id: 'each', name: 'Each Rose', trigger: 'gift', giftName: 'Rose', combo: 'each', actions: [{ type: 'overlay', channel: 'rules-2', template: 'each' }] },
      ],
    });
    await host.send(...allCaptureEvents);
    expect((host.messages('rules') as OverlayMessage[]).map((message) => message.eventId)).toEqual(once);
    expect((host.messages('rules-2') as OverlayMessage[]).map((message) => message.eventId)).toEqual(each);
    expect(host.faults).toEqual([]);
  });

  it('rest after firing, for everyone and per viewer, by the events’ own time', async () => {
    const chats = distinct(allCaptureEvents.filter((event) => event.eventType === 'CHAT'));
    const perViewer: string[] = [];
    const lastFor = new Map<string, number>();
    const everyone: string[] = [];
    let last: number | undefined;
    for (const event of chats) {
      const at = Date.parse(event.timestamp);
      const seen = lastFor.get(event.user.userId);
      if (seen === undefined || at - seen >= 60_000) perViewer.push(event.eventId), lastFor.set(event.user.userId, at);
      if (last === undefined || at - last >= 20_000) everyone.push(event.eventId), (last = at);
    }
    expect(perViewer.length).toBeGreaterThan(everyone.length);
    expect(perViewer.length).toBeLessThan(chats.length);

    const host = await startHost({
      rules: [
        { id: 'viewer', name: 'Once a minute per viewer', events: ['CHAT'], viewerCooldownMs: 60_000, actions: [{ type: 'overlay', template: 'hi' }] },
        { id: 'all', name: 'Every 20 s', events: ['CHAT'], cooldownMs: 20_000, actions: [{ type: 'overlay', channel: 'rules-2', template: 'hi' }] },
      ],
    });
    await host.send(...allCaptureEvents);
    expect((host.messages('rules') as OverlayMessage[]).map((message) => message.eventId)).toEqual(perViewer);
    expect((host.messages('rules-2') as OverlayMessage[]).map((message) => message.eventId)).toEqual(everyone);
  });

  it('sends an overlay message for each gift worth at least 5 coins, and only for those', async () => {
    const bigGifts = distinct(allCaptureEvents.filter(isGift)).filter((event) => event.payload!.coins >= 5);
    expect(bigGifts).toHaveLength(38);
    const expected: OverlayMessage[] = bigGifts.map((event) => ({
      ruleId: 'big-gifts',
      text: `${event.user.displayName ?? ''} sent ${event.payload!.giftCount}× ${event.payload!.giftName} (${event.payload!.coins} coins)`,
      eventId: event.eventId,
    }));

    const host = await startHost({
      rules: [
        {
          id: 'big-gifts',
          name: 'Big gifts',
          events: ['GIFT'],
          condition: { '>=': [{ var: 'payload.coins' }, 5] },
          actions: [{ type: 'overlay', template: '{user.displayName} sent {payload.giftCount}× {payload.giftName} ({payload.coins} coins)' }],
        },
      ],
    });
    await host.send(...allCaptureEvents);
    expect(host.messages('rules')).toEqual(expected);
    // Each message is recorded against the event that caused it.
    expect(host.overlay.map((entry) => entry.eventId)).toEqual(expected.map((message) => message.eventId));
    expect(host.faults).toEqual([]);
    expect(host.logs).toEqual([]);
  });

  it('applies a rule without event types to every event, on the channel it names', async () => {
    const isFollow = (event: UnifiedEvent) => event.eventType === 'FOLLOW';
    const isFriendChat = (event: UnifiedEvent) => event.eventType === 'CHAT' && event.user.followRole === 2;
    const expected = distinct(allCaptureEvents.filter((event) => isFollow(event) || isFriendChat(event)));
    expect([expected.filter(isFollow).length, expected.filter(isFriendChat).length]).toEqual([73, 10]);

    const host = await startHost({
      rules: [
        {
          id: 'thanks',
          name: 'Thank followers and friends',
          condition: { or: [{ '==': [{ var: 'eventType' }, 'FOLLOW'] }, { and: [{ '==': [{ var: 'eventType' }, 'CHAT'] }, { '===': [{ var: 'user.followRole' }, 2] }] }] },
          actions: [{ type: 'overlay', channel: 'rules-2', template: 'Thanks @{user.uniqueId} ({eventType})' }],
        },
      ],
    });
    await host.send(...allCaptureEvents);
    expect(host.messages('rules-2')).toEqual(
      expected.map((event) => ({ ruleId: 'thanks', text: `Thanks @${event.user.uniqueId} (${event.eventType})`, eventId: event.eventId })),
    );
    expect(host.messages('rules')).toEqual([]);
  });
});

describe('webhooks', () => {
  const hookUrl = 'https://hooks.example.com/ttlp/gifts';

  it('posts the rendered body, as JSON when it is JSON, to the configured URL only', async () => {
    const received: HttpCall[] = [];
    const host = await startHost(
      {
        rules: [
          {
            id: 'forward-gifts',
            name: 'Forward big gifts',
            events: ['GIFT'],
            condition: { '>=': [{ var: 'payload.coins' }, 10] },
            actions: [
              { type: 'webhook', url: hookUrl, template: { text: '{user.displayName} sent {payload.giftName}', coins: '{payload.coins}', level: '{user.teamMemberLevel}' } },
              { type: 'webhook', url: hookUrl },
              { type: 'webhook', url: hookUrl, template: '{user.uniqueId} sent {payload.coins} coins' },
            ],
          },
        ],
      },
      {
        http: {
          [`POST ${hookUrl}`]: (call) => {
            received.push(call);
            return { status: 204 };
          },
        },
      },
    );
    const big = gift(20, { userId: '6800000000000000021', uniqueId: 'ana', displayName: 'Ana "the rose" 🌹' });
    await host.send(gift(5), big, big);

    // Every request reached the fixture (one to another URL would be recorded, answered 404); the
    // re-delivered event fired nothing again, the small gift nothing at all.
    expect(received).toEqual(host.httpCalls);
    expect(received.map(({ method, url, headers }) => ({ method, url, contentType: headers['content-type'] }))).toEqual([
      { method: 'POST', url: hookUrl, contentType: 'application/json' },
      { method: 'POST', url: hookUrl, contentType: 'application/json' },
      { method: 'POST', url: hookUrl, contentType: 'text/plain; charset=utf-8' },
    ]);
    // JSON template: the quotes in the name are escaped; a lone token keeps the value's type; no value is null.
    expect(JSON.parse(received[0]!.body!)).toEqual({ text: 'Ana "the rose" 🌹 sent Rose', coins: 20, level: null });
    expect(received[1]!.body).toBe(JSON.stringify(big));
    expect(received[2]!.body).toBe('ana sent 20 coins');
    expect(host.logs).toEqual([]);
    expect(host.faults).toEqual([]);
  });

  it('logs a webhook that is not granted or fails, and goes on with the other actions', async () => {
    const host = await startHost(
      {
        rules: [
          {
            id: 'forward',
            name: 'Forward',
            events: ['GIFT'],
            actions: [
              { type: 'webhook', url: 'https://hooks.example.com.evil.net/ttlp/gifts' },
              { type: 'webhook', url: hookUrl },
              { type: 'overlay', template: '{payload.coins}' },
            ],
          },
        ],
      },
      {
        // The host refuses URLs too (private addresses, unless their exact origin is granted);
        // here a grant narrower than the manifest's `https://**` stands in for that.
        grants: ['events:*', 'overlay:rules', 'http:https://hooks.example.com/ttlp/**'],
        http: { [hookUrl]: { status: 500, body: 'down' } },
      },
    );
    const event = gift(3);
    await host.send(event);
    expect(host.httpCalls.map((call) => call.url)).toEqual([hookUrl]);
    expect(host.logs).toEqual([
      {
        level: 'error',
        message:
          'rule "forward": the webhook action failed: not allowed to fetch https://hooks.example.com.evil.net/ttlp/gifts (no granted URL pattern matches)',
        fields: { ruleId: 'forward', eventId: event.eventId },
      },
      {
        level: 'warn',
        message: `rule "forward": the webhook ${hookUrl} answered 500`,
        fields: { ruleId: 'forward', eventId: event.eventId, status: 500 },
      },
    ]);
    expect(host.messages('rules')).toEqual([{ ruleId: 'forward', text: '3', eventId: event.eventId }]);
    expect(host.faults).toEqual([]);
  });
});

describe('invalid rules', () => {
  let deep: unknown = { var: 'payload.coins' };
  for (let level = 1; level < 17; level += 1) deep = { '!': deep };

  it('reports each unusable rule once at setup and runs the others', async () => {
    const host = await startHost({
      rules: [
        {
          id: 'unsafe',
          name: 'Unsafe',
          condition: { or: [{ '==': [{ var: 'eventType' }, 'GIFT'] }, { method: [{ var: 'user.uniqueId' }, 'toUpperCase'] }, { log: 1 }] },
          actions: [{ type: 'overlay', template: 'unsafe' }],
        },
        { id: 'deep', name: 'Too deep', condition: deep, actions: [{ type: 'overlay', template: 'deep' }] },
        { id: 'template', name: 'Bad template', actions: [{ type: 'log', level: 'info', template: '{"coins": {payload.coins}}' }] },
        { id: 'gifts', name: 'Gifts', events: ['GIFT'], actions: [{ type: 'overlay', template: '{payload.coins}' }] },
      ],
    });
    expect(host.logs).toEqual([
      {
        level: 'error',
        message: 'rule "unsafe" (Unsafe) is skipped: condition /or/1 uses the unknown operator "method"; condition /or/2 uses the unknown operator "log"',
        fields: { ruleId: 'unsafe', problems: ['condition /or/1 uses the unknown operator "method"', 'condition /or/2 uses the unknown operator "log"'] },
      },
      {
        level: 'error',
        message: `rule "deep" (Too deep) is skipped: condition ${'/!'.repeat(16)} nests deeper than 16 levels`,
        fields: { ruleId: 'deep', problems: [`condition ${'/!'.repeat(16)} nests deeper than 16 levels`] },
      },
      {
        level: 'error',
        message:
          'rule "template" (Bad template) is skipped: actions/0 invalid template: "{" at 0 does not start a {dotted.path} token (write "{{" for a literal brace)',
        fields: {
          ruleId: 'template',
          problems: ['actions/0 invalid template: "{" at 0 does not start a {dotted.path} token (write "{{" for a literal brace)'],
        },
      },
    ]);

    const events = [gift(7), makeEvent('CHAT', { message: 'hi' }), gift(9)];
    await host.send(...events);
    expect(host.messages('rules')).toEqual([
      { ruleId: 'gifts', text: '7', eventId: events[0]!.eventId },
      { ruleId: 'gifts', text: '9', eventId: events[2]!.eventId },
    ]);
    expect(host.logs).toHaveLength(3);
    expect(host.faults).toEqual([]);
  });

  it('refuses two rules with one id in its settings, as the settings page does', async () => {
    const twice = { id: 'gifts', name: 'Gifts', events: ['GIFT'], actions: [{ type: 'overlay', template: 'x' }] };
    await expect(startHost({ rules: [twice, { ...twice, name: 'Copy of Gifts' }] })).rejects.toThrow('/rules must not have two items with the same id');
  });

  it('leaves to the config schema what it can check: channels, URLs, levels', async () => {
    const withAction = (action: Record<string, unknown>) => ({ rules: [{ id: 'r', name: 'R', actions: [action] }] });
    await expect(startHost(withAction({ type: 'overlay', channel: 'alerts', template: 'x' }))).rejects.toThrow('/rules/0/actions/0');
    await expect(startHost(withAction({ type: 'webhook', url: 'http://hooks.example.com/x' }))).rejects.toThrow('/rules/0/actions/0');
    await expect(startHost(withAction({ type: 'log', level: 'loud', template: 'x' }))).rejects.toThrow('/rules/0/actions/0');
    await expect(startHost({ rules: [{ id: 'r', name: 'R', events: ['TIP'], actions: [{ type: 'log', level: 'info', template: 'x' }] }] })).rejects.toThrow(
      '/rules/0/events/0',
    );
  });
});

describe('dryRun', () => {
  const bigGifts = rule({
    id: 'big-gifts',
    events: ['GIFT'],
    condition: { and: [{ '>=': [{ var: 'payload.coins' }, 100] }, { '!': { var: 'payload.isGiftStreak' } }] },
    actions: [
      { type: 'overlay', template: '{user.displayName} sent {payload.coins} coins' },
      { type: 'log', level: 'info', template: '{user.uniqueId}: {payload.giftName} for {payload.receiverUserId}' },
      { type: 'webhook', url: 'https://hooks.example.com/x', template: { who: '{user.uniqueId}', month: '{payload.subMonth}' } },
    ],
  });

  it('explains why a rule does not match, with the values it saw', () => {
    const small = gift(5);
    expect(dryRun([bigGifts], small)).toEqual([{ ruleId: 'big-gifts', matched: false, reasons: ['payload.coins (5) >= 100 is false'], actions: [] }]);
  });

  it('renders the actions of a matching rule and lists the tokens without a value', () => {
    const event = gift(150, { userId: '6800000000000000031', uniqueId: 'bo', displayName: 'Bo' });
    expect(dryRun([bigGifts], event)).toEqual([
      {
        ruleId: 'big-gifts',
        matched: true,
        reasons: ['payload.coins (150) >= 100 is true', '!(payload.isGiftStreak (false)) is true'],
        actions: [
          { type: 'overlay', channel: 'rules', message: { ruleId: 'big-gifts', text: 'Bo sent 150 coins', eventId: event.eventId }, missing: [] },
          { type: 'log', level: 'info', text: 'bo: Rose for ', missing: ['payload.receiverUserId'] },
          {
            type: 'webhook',
            url: 'https://hooks.example.com/x',
            headers: { 'content-type': 'application/json' },
            body: '{"who":"bo","month":null}',
            missing: ['payload.subMonth'],
          },
        ],
      },
    ]);
  });

  it('says why a rule was not checked: disabled, other event types, invalid', () => {
    const chat = makeEvent('CHAT', { message: '!song' });
    const plans = dryRun(
      [
        bigGifts,
        rule({ id: 'off', enabled: false, actions: [{ type: 'overlay', template: 'x' }] }),
        rule({ id: 'unsafe', condition: { method: [{ var: 'user' }, 'toString'] }, actions: [{ type: 'overlay', template: '{' }] }),
        rule({ id: 'command', condition: { '==': [{ substr: [{ var: 'payload.message' }, 0, 1] }, '!'] }, actions: [{ type: 'overlay', template: '{payload.message}' }] }),
      ],
      chat,
    );
    expect(plans.map(({ ruleId, matched, reasons }) => ({ ruleId, matched, reasons }))).toEqual([
      { ruleId: 'big-gifts', matched: false, reasons: ['the rule applies to GIFT, not CHAT'] },
      { ruleId: 'off', matched: false, reasons: ['the rule is disabled'] },
      {
        ruleId: 'unsafe',
        matched: false,
        reasons: [
          'invalid rule: condition (root) uses the unknown operator "method"',
          'invalid rule: actions/0 invalid template: "{" at 0 does not start a {dotted.path} token (write "{{" for a literal brace)',
        ],
      },
      { ruleId: 'command', matched: true, reasons: ['substr(payload.message ("!song"), 0, 1) == "!" is true'] },
    ]);
    expect(plans[3]!.actions).toEqual([{ type: 'overlay', channel: 'rules', message: { ruleId: 'command', text: '!song', eventId: chat.eventId }, missing: [] }]);
  });

  it('takes a condition that throws on an event as not matching, and goes on with the others', () => {
    const raw = makeEvent('RAW', { rawType: 'WebcastOddMessage', data: { indexOf: 1 } });
    const plans = dryRun(
      [
        rule({ id: 'odd', condition: { in: ['x', { var: 'payload.data' }] }, actions: [{ type: 'overlay', template: 'odd' }] }),
        rule({ id: 'raw', events: ['RAW'], actions: [{ type: 'overlay', template: '{payload.rawType}' }] }),
      ],
      raw,
    );
    expect(plans.map(({ ruleId, matched, reasons }) => ({ ruleId, matched, reasons }))).toEqual([
      { ruleId: 'odd', matched: false, reasons: ['the condition failed on this event: b.indexOf is not a function'] },
      { ruleId: 'raw', matched: true, reasons: ['no condition: always matches'] },
    ]);
  });

  it('with the dryRun setting, does nothing but log the plan of each rule, matched or not', async () => {
    const host = await startHost({ dryRun: true, rules: [bigGifts] }, { http: { 'https://hooks.example.com/x': { status: 204 } } });
    const [small, big] = [gift(5), gift(120)];
    await host.send(small, big);
    const { reasons, actions } = dryRun([bigGifts], big)[0]!;
    expect(host.overlay).toEqual([]);
    expect(host.httpCalls).toEqual([]);
    expect(host.logs).toEqual([
      {
        level: 'info',
        message: 'dry run: rule "big-gifts" did not match a GIFT event',
        fields: { ruleId: 'big-gifts', eventId: small.eventId, matched: false, reasons: ['payload.coins (5) >= 100 is false'], actions: [] },
      },
      {
        level: 'info',
        message: 'dry run: rule "big-gifts" matched a GIFT event',
        fields: { ruleId: 'big-gifts', eventId: big.eventId, matched: true, reasons, actions },
      },
    ]);
    expect(host.faults).toEqual([]);
  });
});

describe('log actions', () => {
  it('stay under the host log limit on a busy event type: the excess is dropped and counted', async () => {
    const host = await startHost({
      rules: [{ id: 'likes', name: 'Likes', events: ['LIKE'], actions: [{ type: 'log', level: 'debug', template: '{payload.likeCount} likes' }] }],
    });
    // Far more than the burst (50) and the refill (10 a second) over any time sending them takes.
    const likes = Array.from({ length: 300 }, (_, index) => makeEvent('LIKE', { likeCount: index + 1, totalLikeCount: 1000 + index }));
    await host.send(...likes);
    // Likes that come once the budget has refilled are logged again.
    const later: UnifiedEvent[] = [];
    await waitFor(async () => {
      const like = makeEvent('LIKE', { likeCount: 1, totalLikeCount: 2000 + later.length });
      later.push(like);
      await host.send(like);
      return host.logs.at(-1)?.fields?.eventId === like.eventId;
    }, 'a like logged once the budget refilled');

    expect(host.faults).toEqual([]);
    expect(host.logs.length).toBeLessThan(likes.length);
    expect(host.logs[0]).toEqual({ level: 'debug', message: '1 likes', fields: { ruleId: 'likes', eventId: likes[0]!.eventId } });
    // Every like is either logged or counted in the next line written.
    const dropped = host.logs.reduce((sum, line) => sum + Number(line.fields?.droppedBefore ?? 0), 0);
    expect(dropped).toBeGreaterThan(0);
    expect(host.logs.length + dropped).toBe(likes.length + later.length);
  });

  it('LogBudget: a burst, then the rate; a line written after drops says how many', () => {
    const budget = new LogBudget(10, 3, 0);
    expect([budget.take(0), budget.take(0), budget.take(0), budget.take(0), budget.take(50)]).toEqual([
      { allowed: true, droppedBefore: 0 },
      { allowed: true, droppedBefore: 0 },
      { allowed: true, droppedBefore: 0 },
      { allowed: false },
      { allowed: false },
    ]);
    expect(budget.take(100)).toEqual({ allowed: true, droppedBefore: 2 });
    expect(budget.take(100)).toEqual({ allowed: false });
    expect(budget.take(10_000)).toEqual({ allowed: true, droppedBefore: 1 });
  });
});

describe('who and what sets a rule off', () => {
  const say = (message: string, user: Partial<UnifiedEvent['user']> = {}) => makeEvent('CHAT', { message }, { user });
  const fired = (rules: Rule[], event: UnifiedEvent) => dryRun(rules, event).map((plan) => [plan.ruleId, plan.matched, plan.reasons]);

  it('answers a chat command, any case, and only at the start of a message', () => {
    const discord = rule({ id: 'discord', trigger: 'command', command: '!discord', actions: [{ type: 'overlay', template: 'discord.gg/x' }] });
    expect(fired([discord], say('!Discord please'))[0]?.[1]).toBe(true);
    expect(fired([discord], say('where is the !discord'))).toEqual([['discord', false, ['the message does not start with !discord']]]);
    expect(fired([discord], gift(5))).toEqual([['discord', false, ['the rule fires on the chat command !discord, not on GIFT']]]);
  });

  it('fires on the gift it names, once worth enough coins', () => {
    const lion = rule({ id: 'lion', trigger: 'gift', giftName: 'Lion', minCoins: 1000, actions: [{ type: 'overlay', template: 'roar' }] });
    expect(fired([lion], gift(5))).toEqual([['lion', false, ['the gift is Rose, not Lion']]]);
    const big = rule({ id: 'big', trigger: 'gift', minCoins: 1000, actions: [{ type: 'overlay', template: 'wow' }] });
    expect(fired([big], gift(999))).toEqual([['big', false, ['the gift is worth 999 coins so far, less than 1000']]]);
    expect(fired([big], gift(1000))[0]?.[1]).toBe(true);
  });

  it('lets only its audience set it off', () => {
    const actions: Rule['actions'] = [{ type: 'overlay', template: 'x' }];
    const rules = [
      rule({ id: 'followers', audience: 'followers', actions }),
      rule({ id: 'friends', audience: 'friends', actions }),
      rule({ id: 'subscribers', audience: 'subscribers', actions }),
      rule({ id: 'moderators', audience: 'moderators', actions }),
      rule({ id: 'named', users: ['@Ada_L', 'bo'], actions }),
    ];
    const matched = (user: Partial<UnifiedEvent['user']>) => dryRun(rules, say('hi', user)).filter((plan) => plan.matched).map((plan) => plan.ruleId);
    expect(matched({ uniqueId: 'someone', followRole: 0 })).toEqual([]);
    expect(matched({ uniqueId: 'fan', followRole: 1 })).toEqual(['followers']);
    expect(matched({ uniqueId: 'ada_l', followRole: 2, isSubscriber: true })).toEqual(['followers', 'friends', 'subscribers', 'named']);
    expect(matched({ uniqueId: 'bo', isModerator: true })).toEqual(['moderators', 'named']);
    expect(dryRun(rules, say('hi', { uniqueId: 'someone' }))[4]?.reasons).toEqual(['@someone is not one of the rule\'s viewers']);
  });

  it('refuses a command trigger without a command', async () => {
    await expect(startHost({ rules: [{ id: 'x', name: 'x', trigger: 'command', actions: [{ type: 'log', level: 'info', template: 'x' }] }] })).resolves.toBeDefined();
    const host = hosts.at(-1)!;
    expect(host.logs.some((line) => line.message.includes('the command trigger names no command'))).toBe(true);
  });
});
