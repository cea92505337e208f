import { describe, expect, it } from 'vitest';
import { AlertQueue, alertDuration, parseAlertMessage, type AlertMessage } from './alert-queue.ts';

const alert = (alertId: string, overrides: Partial<AlertMessage> = {}): AlertMessage => ({
  type: 'gift',
  alertId,
  update: false,
  final: true,
  text: `alert ${alertId}`,
  durationMs: 1000,
  imageUrl: null,
  avatarUrl: null,
  count: null,
  coins: null,
  value: 0,
  group: null,
  ...overrides,
});

const FOLLOWS = { key: 'follow', template: '{count} new followers!' };
const follow = (alertId: string, name = alertId) =>
  alert(alertId, { type: 'follow', text: `${name} followed!`, avatarUrl: `https://cdn.example/${name}.png`, group: FOLLOWS });
const gift = (alertId: string, coins: number, overrides: Partial<AlertMessage> = {}) => alert(alertId, { type: 'gift', coins, value: coins, ...overrides });

const queue = () => new AlertQueue({ durationOf: (a) => a.durationMs, gapMs: 100 });

describe('AlertQueue', () => {
  it('shows one alert at a time, in order, with a pause between', () => {
    const q = queue();
    q.receive(alert('a'), 0);
    q.receive(alert('b'), 10);
    expect(q.current?.alertId).toBe('a');
    expect(q.nextDeadline()).toBe(1000);
    q.advance(1000);
    expect(q.current).toBeNull();
    expect(q.nextDeadline()).toBe(1100);
    q.advance(1100);
    expect(q.current?.alertId).toBe('b');
    expect(q.current?.endsAt).toBe(2100);
    q.advance(2100);
    q.advance(2200);
    expect(q.current).toBeNull();
    expect(q.nextDeadline()).toBeNull();
  });

  it('updates a streak in place and restarts its time from the latest message', () => {
    const q = queue();
    q.receive(alert('s', { update: false, final: false, text: 'x1', count: 1 }), 0);
    q.receive(alert('s', { update: true, final: false, text: 'x5', count: 5 }), 800);
    expect(q.current).toMatchObject({ alertId: 's', text: 'x5', count: 5, shownAt: 0, endsAt: 1800, revision: 1 });
    expect(q.waiting).toHaveLength(0);
    q.advance(1000);
    expect(q.current?.text).toBe('x5');
  });

  it('updates a waiting alert where it stands in the queue', () => {
    const q = queue();
    q.receive(alert('a'), 0);
    q.receive(alert('s', { final: false, text: 'x1' }), 1);
    q.receive(alert('b'), 2);
    q.receive(alert('s', { update: true, text: 'x9' }), 3);
    expect(q.waiting.map((w) => [w.alertId, w.text])).toEqual([
      ['s', 'x9'],
      ['b', 'alert b'],
    ]);
  });

  it('shows an update whose alert it never saw, or that already ended, as a new alert', () => {
    const q = queue();
    q.receive(alert('s', { update: true, text: 'x7' }), 0);
    expect(q.current?.text).toBe('x7');
    q.advance(1000);
    q.receive(alert('s', { update: true, text: 'x8' }), 1050);
    q.advance(1100);
    expect(q.current?.text).toBe('x8');
  });

  it('keeps at most maxWaiting alerts waiting', () => {
    const q = new AlertQueue({ durationOf: () => 1000, maxWaiting: 2 });
    for (const id of ['a', 'b', 'c', 'd']) q.receive(alert(id), 0);
    expect(q.current?.alertId).toBe('a');
    expect(q.waiting.map((w) => w.alertId)).toEqual(['c', 'd']);
  });
});

describe('AlertQueue keeping up with a busy stream', () => {
  const busy = (options: { bigValue?: number; maxWaitMs?: number; coalesce?: boolean; maxWaiting?: number } = {}) =>
    new AlertQueue({ durationOf: (a) => a.durationMs, gapMs: 100, bigValue: 1000, ...options });

  it('puts a big gift before every smaller alert waiting, after the one on screen; big ones keep their order', () => {
    const q = busy();
    for (const id of ['rose-1', 'rose-2', 'rose-3']) q.receive(gift(id, 1), 0);
    q.receive(gift('lion', 29_999), 5);
    q.receive(gift('universe', 34_999), 6);
    q.receive(gift('rose-4', 1), 7);
    expect(q.current?.alertId).toBe('rose-1');
    expect(q.waiting.map((w) => w.alertId)).toEqual(['lion', 'universe', 'rose-2', 'rose-3', 'rose-4']);
    q.advance(1000);
    q.advance(1100);
    expect(q.current?.alertId).toBe('lion');
  });

  it('moves a streak forward once its coins make it big', () => {
    const q = busy();
    q.receive(gift('a', 1), 0);
    q.receive(gift('b', 1), 1);
    q.receive(gift('streak', 500, { final: false }), 2);
    q.receive(gift('streak', 1500, { update: true }), 3);
    expect(q.waiting.map((w) => [w.alertId, w.coins])).toEqual([
      ['streak', 1500],
      ['b', 1],
    ]);
  });

  it('shows the follows waiting at once as one alert, with no one’s picture, and never groups gifts', () => {
    const q = busy({ coalesce: true });
    q.receive(gift('on-screen', 5), 0);
    for (let n = 1; n <= 10; n += 1) q.receive(follow(`f${n}`), n);
    q.receive(gift('rose', 1), 20);
    q.receive(gift('rose-2', 1), 21);
    q.receive(alert('s1', { type: 'share', text: 'x shared', group: { key: 'share', template: '{count} shares' } }), 22);
    expect(q.waiting.map((w) => [w.alertId, w.text, w.members, w.avatarUrl])).toEqual([
      ['f1', '10 new followers!', 10, null],
      ['rose', 'alert rose', 1, null],
      ['rose-2', 'alert rose-2', 1, null],
      ['s1', 'x shared', 1, null],
    ]);
    // A follow that comes once the group is on screen starts a new one.
    q.advance(1000);
    q.advance(1100);
    expect(q.current?.text).toBe('10 new followers!');
    q.receive(follow('f11', 'Ada'), 1200);
    expect(q.waiting.at(-1)).toMatchObject({ text: 'Ada followed!', members: 1, avatarUrl: 'https://cdn.example/Ada.png' });
  });

  it('keeps follows apart when not asked to group them', () => {
    const q = busy({ coalesce: false });
    for (let n = 1; n <= 3; n += 1) q.receive(follow(`f${n}`), n);
    expect(q.waiting.map((w) => w.text)).toEqual(['f2 followed!', 'f3 followed!']);
  });

  it('drops, and counts, the alerts that waited longer than maxWaitMs; big ones wait as long as it takes', () => {
    const q = busy({ maxWaitMs: 2500, coalesce: true });
    q.receive(gift('a', 1), 0);
    q.receive(gift('b', 1), 100);
    for (let n = 1; n <= 4; n += 1) q.receive(follow(`f${n}`), 200);
    q.receive(gift('lion', 29_999), 300);
    q.advance(1000);
    q.advance(1100);
    expect(q.current?.alertId).toBe('lion');
    q.receive(gift('c', 1), 2000);
    q.advance(2100);
    q.advance(2800);
    // b (waited 2700 ms) and the four follows (2600 ms) are gone; c (800 ms) comes on.
    expect([q.current?.alertId, q.dropped]).toEqual(['c', 5]);
  });

  it('drops, and counts, the oldest small alert when too many wait', () => {
    const q = busy({ maxWaiting: 2 });
    q.receive(gift('on-screen', 1), 0);
    q.receive(gift('lion', 29_999), 1);
    q.receive(gift('a', 1), 2);
    q.receive(gift('b', 1), 3);
    expect([q.waiting.map((w) => w.alertId), q.dropped]).toEqual([['lion', 'b'], 1]);
  });
});

describe('alertDuration', () => {
  it('takes the URL override, then the per-type one, then the plugin', () => {
    const gift = alert('g', { durationMs: 6000 });
    expect(alertDuration(gift, {})).toBe(6000);
    expect(alertDuration(gift, { giftMs: 3000, followMs: 1000 })).toBe(3000);
    expect(alertDuration(gift, { duration: 2000, giftMs: 3000 })).toBe(2000);
  });
});

describe('parseAlertMessage', () => {
  it('reads the alerts plugin message and rejects anything else', () => {
    expect(
      parseAlertMessage({
        type: 'gift',
        alertId: 'e1',
        update: true,
        final: false,
        text: '<b>x</b> sent Rose ×3',
        durationMs: 6000,
        user: { uniqueId: 'u', displayName: 'U', avatarUrl: 'javascript:alert(1)' },
        giftName: 'Rose',
        giftImageUrl: 'https://example.com/rose.png',
        count: 3,
        coins: 3,
      }),
    ).toEqual({
      type: 'gift',
      alertId: 'e1',
      update: true,
      final: false,
      text: '<b>x</b> sent Rose ×3',
      durationMs: 6000,
      imageUrl: 'https://example.com/rose.png',
      avatarUrl: null,
      count: 3,
      coins: 3,
      value: 3,
      group: null,
    });
    expect(parseAlertMessage({ type: 'follow', alertId: 'f', text: 'ana followed!', value: 'lots', group: { key: 'follow', template: '{count} new followers!' } })).toMatchObject({
      coins: null,
      value: 0,
      group: { key: 'follow', template: '{count} new followers!' },
    });
    // A group without a place for the count, or without a key, is no group.
    expect(parseAlertMessage({ type: 'follow', alertId: 'f', text: 't', group: { key: 'follow', template: 'many followers' } })?.group).toBeNull();
    expect(parseAlertMessage({ type: 'follow', alertId: 'f', text: 't', group: { template: '{count}' } })?.group).toBeNull();
    expect(parseAlertMessage({ type: 'raid', alertId: 'x', text: 'hi' })).toBeNull();
    expect(parseAlertMessage({ type: 'follow', text: 'hi' })).toBeNull();
    expect(parseAlertMessage(null)).toBeNull();
    // A rules plugin overlay action is the rules plugin's to show (its Rule messages widget).
    expect(parseAlertMessage({ ruleId: 'big-gifts', text: 'Ann sent 5× Galaxy!', eventId: 'ab12' })).toBeNull();
  });
});
