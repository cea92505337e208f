import { describe, expect, it } from 'vitest';
import alertsPackage from '../../../plugins/alerts/package.json';
import chatPackage from '../../../plugins/chat/package.json';
import goalsPackage from '../../../plugins/goals/package.json';
import rulesPackage from '../../../plugins/rules/package.json';
import webhookPackage from '../../../plugins/webhook/package.json';
import {
  asSchema,
  choicesOf,
  variantOf,
  variantsOf,
  fieldKind,
  newValueFor,
  prepareDraft,
  problemMessage,
  problemPointer,
  problemText,
  validate,
  type JsonSchema,
} from './json-schema.ts';
import { describePermission } from './permissions.ts';

const PACKAGES: Record<string, { ttlp: { config: unknown } }> = {
  alerts: alertsPackage,
  chat: chatPackage,
  goals: goalsPackage,
  rules: rulesPackage,
  webhook: webhookPackage,
};
const pluginSchema = (id: string): JsonSchema => asSchema(PACKAGES[id]?.ttlp.config);
const child = (schema: JsonSchema, ...path: string[]) =>
  path.reduce((s, key) => (key === '[]' ? asSchema(s.items) : asSchema(s.properties?.[key])), schema);

describe('fieldKind on the first-party plugins', () => {
  it('builds forms for what it can and falls back to JSON for the rest', () => {
    const alerts = pluginSchema('alerts');
    expect(fieldKind(alerts)).toBe('object');
    expect(fieldKind(child(alerts, 'gift'))).toBe('object');
    expect(fieldKind(child(alerts, 'gift', 'minCoins'))).toBe('integer');
    const chat = pluginSchema('chat');
    expect(fieldKind(child(chat, 'minFollowRole'))).toBe('enum');
    expect(fieldKind(child(chat, 'blockedWords'))).toBe('primitive-array');
    const goals = pluginSchema('goals');
    expect(fieldKind(child(goals, 'goals'))).toBe('object-array');
    expect(fieldKind(child(goals, 'goals', '[]', 'kind'))).toBe('enum');
    const rules = pluginSchema('rules');
    expect(fieldKind(child(rules, 'rules'))).toBe('object-array');
    expect(fieldKind(child(rules, 'rules', '[]', 'events'))).toBe('enum-set');
    expect(fieldKind(child(rules, 'rules', '[]', 'condition'))).toBe('json');
    expect(fieldKind(child(rules, 'rules', '[]', 'actions'))).toBe('object-array');
    expect(fieldKind(child(rules, 'rules', '[]', 'actions', '[]'))).toBe('variant');
    expect(fieldKind(child(rules, 'rules', '[]', 'trigger'))).toBe('enum');
    const webhook = pluginSchema('webhook');
    expect(fieldKind(child(webhook, 'events'))).toBe('enum-set');
    expect(child(webhook, 'secret').writeOnly).toBe(true);
  });
});

describe('prepareDraft', () => {
  it('fills objects and array defaults, leaves scalars unset', () => {
    expect(prepareDraft(pluginSchema('alerts'), { gift: { minCoins: 5 } })).toEqual({
      follow: {},
      share: {},
      subscribe: {},
      gift: { minCoins: 5 },
    });
    const goals = prepareDraft(pluginSchema('goals'), {});
    expect((goals.goals as unknown[]).length).toBe(3);
    expect(goals.saveIntervalMs).toBeUndefined();
  });

  it('makes new array items from their schema', () => {
    expect(newValueFor(child(pluginSchema('goals'), 'goals', '[]'))).toEqual({});
    expect(newValueFor({ type: 'string' })).toBe('');
    expect(newValueFor({ type: 'integer', minimum: 3 })).toBe(3);
  });
});

describe('validate', () => {
  it('checks required, ranges, lengths, patterns and item counts', () => {
    const goals = pluginSchema('goals');
    expect(validate(goals, prepareDraft(goals, {}))).toEqual({});
    expect(
      validate(goals, { goals: [{ id: 'Bad Id', kind: 'likes', target: 0 }], saveIntervalMs: 1.5 }),
    ).toEqual({
      '/goals/0/title': ["must have required property 'title'"],
      '/goals/0/id': ['must match pattern "^[a-z0-9][a-z0-9_-]{0,63}$"'],
      '/goals/0/target': ['must be >= 1'],
      '/saveIntervalMs': ['must be a whole number', 'must be >= 10'],
    });
    const alerts = pluginSchema('alerts');
    expect(validate(alerts, { follow: { template: '{giftName} followed' } })).toHaveProperty('/follow/template');
    expect(validate(alerts, { follow: { template: '{user} followed' } })).toEqual({});
    expect(validate(pluginSchema('webhook'), { events: ['GIFT', 'GIFT'] })).toEqual({ '/events': ['must not have duplicate items'] });
  });

  it('refuses two goals with one id, as the host does, naming the second', () => {
    const goal = (id: string, title: string) => ({ id, kind: 'likes', target: 10, title });
    expect(validate(pluginSchema('goals'), { goals: [goal('likes', 'A'), goal('coins', 'B'), goal('likes', 'C')] })).toEqual({
      '/goals/2/id': ["must differ from item 1's id (likes)"],
    });
    expect(validate(pluginSchema('goals'), { goals: [goal('likes', 'A'), goal('coins', 'B')] })).toEqual({});
  });

  it('offers labelled choices for a oneOf of constants, and checks the value is one of them', () => {
    const role = child(pluginSchema('chat'), 'minFollowRole');
    expect(choicesOf(role)).toEqual([
      { value: 0, label: 'Everyone' },
      { value: 1, label: 'Followers' },
      { value: 2, label: 'Friends (mutual follow)' },
    ]);
    expect(validate(pluginSchema('chat'), { minFollowRole: 1 })).toEqual({});
    expect(validate(pluginSchema('chat'), { minFollowRole: 3 })).toEqual({ '/minFollowRole': ['must be one of the listed values'] });
    expect(choicesOf({ enum: ['a', 'b'] })).toEqual([
      { value: 'a', label: 'a' },
      { value: 'b', label: 'b' },
    ]);
  });
});

describe('variants: a oneOf of objects told apart by a constant', () => {
  const action = child(pluginSchema('rules'), 'rules', '[]', 'actions', '[]');

  it('are the kinds of a rule action, by their titles, told apart by `type`', () => {
    const found = variantsOf(action)!;
    expect(found.tagKey).toBe('type');
    expect(found.variants.map((variant) => [variant.tag, variant.label])).toEqual([
      ['overlay', 'Show a message on a widget'],
      ['webhook', 'Call a webhook'],
      ['log', 'Write a log line'],
    ]);
    expect(variantOf(action, { type: 'log', level: 'info', template: 'x' })?.tag).toBe('log');
    expect(variantsOf({ oneOf: [{ type: 'string' }, { type: 'number' }] })).toBeNull();
  });

  it('start as the first kind, and are checked as the kind they are', () => {
    expect(newValueFor(action)).toMatchObject({ type: 'overlay', channel: 'rules' });
    const rules = pluginSchema('rules');
    const withAction = (value: unknown) => validate(rules, { rules: [{ id: 'r', name: 'R', actions: [value] }] });
    expect(withAction({ type: 'overlay', template: 'hi' })).toEqual({});
    expect(withAction({ type: 'webhook', url: 'http://insecure.example' })).toEqual({ '/rules/0/actions/0/url': ['must match pattern "^https://[^\\s]+$"'] });
    expect(withAction({ type: 'sms' })).toEqual({ '/rules/0/actions/0/type': ['must be one of Show a message on a widget, Call a webhook, Write a log line'] });
  });
});

describe('server problems', () => {
  it('reads ajv-style and plain problems', () => {
    expect(problemPointer({ instancePath: '/gift/minCoins', message: 'must be >= 0' })).toBe('/gift/minCoins');
    expect(problemPointer({ path: 'goals.0.id', message: 'x' })).toBe('/goals/0/id');
    expect(problemText({ instancePath: '/a', message: 'must be integer' })).toBe('/a: must be integer');
    expect(problemText('the config is wrong')).toBe('the config is wrong');
    // The host's own form: ajv's instancePath, a space, ajv's message.
    expect(problemPointer('/gift/minCoins must be >= 0')).toBe('/gift/minCoins');
    expect(problemMessage('/gift/minCoins must be >= 0')).toBe('must be >= 0');
    expect(problemPointer("(root) must NOT have additional properties 'x'")).toBe('');
    expect(problemPointer('the config is wrong')).toBeNull();
  });
});

describe('describePermission', () => {
  it('says what a permission allows in plain words', () => {
    expect(describePermission('events:GIFT')).toBe('receive GIFT events');
    expect(describePermission('events:*')).toBe('receive all events');
    expect(describePermission('overlay:alerts')).toBe('show things on overlay channel alerts');
    expect(describePermission('http:https://**')).toBe('make web requests to https://**');
    expect(describePermission('kv')).toBe('store its own data');
  });
});
