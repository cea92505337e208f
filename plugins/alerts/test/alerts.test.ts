import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PayloadOf, UnifiedEvent, UnifiedEventOf } from '@ttlp/sdk';
import { createTestHost, makeEvent, type TestHost } from '@ttlp/sdk/testing';
import { captureEvents } from '../../../host/test/support/captures.ts';
import { HANG_MS } from '../../../host/test/support/patience.ts';
import type { AlertMessage } from '../src/alert-message.ts';
import { renderTemplate } from '../src/template.ts';

const pluginDir = fileURLToPath(new URL('..', import.meta.url));

const hosts: TestHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

async function startHost(config: Record<string, unknown> = {}): Promise<TestHost> {
  const host = await createTestHost({ plugin: pluginDir, config });
  hosts.push(host);
  return host;
}

const alertsOf = (host: TestHost) => host.messages('alerts') as unknown as AlertMessage[];
const giftAlertsOf = (host: TestHost) => alertsOf(host).filter((alert) => alert.type === 'gift');

/** Each alert's messages, in the order the alerts started. */
function byAlert<A extends AlertMessage>(alerts: A[]): Map<string, A[]> {
  const grouped = new Map<string, A[]>();
  for (const alert of alerts) grouped.set(alert.alertId, [...(grouped.get(alert.alertId) ?? []), alert]);
  return grouped;
}

const isGift = (event: UnifiedEvent): event is UnifiedEventOf<'GIFT'> => event.eventType === 'GIFT';
const streakKey = (event: UnifiedEventOf<'GIFT'>) => `${event.user.userId}:${event.payload!.groupId}`;
const userOf = (event: UnifiedEvent) => ({
  uniqueId: event.user.uniqueId,
  displayName: event.user.displayName ?? event.user.uniqueId,
  avatarUrl: event.user.avatarUrl ?? null,
});

let nextGroup = 1_700_000_000_000;
/** Messages of one synthetic gift streak by `userId`: `active(count)` while it runs, `end(count)` for its last. */
function streak(userId: string, diamondCount: number) {
  const groupId = String(nextGroup++);
  const message = (giftCount: number, end: boolean) =>
    makeEvent(
      'GIFT',
      {
        giftId: 5655,
        giftName: 'Rose',
        giftCount,
        coins: giftCount * diamondCount,
        diamondCount,
        isGiftStreak: true,
        streakActive: !end,
        streakEnd: end,
        groupId,
        giftImageUrl: 'https://example.invalid/rose.png',
      },
      { user: { userId } },
    );
  return { active: (count: number) => message(count, false), end: (count: number) => message(count, true) };
}

const singleGift = (coins: number) =>
  makeEvent('GIFT', { giftId: 9333, giftName: 'Clappers', giftCount: 1, coins, diamondCount: coins, isGiftStreak: false });

describe('follow, share and subscribe alerts', () => {
  it('alerts each follow, share and subscribe of a real stream once, with the default texts', async () => {
    const events = captureEvents('giftsCollector.capture.ndjson');
    const social = [...new Map(events.filter((event) => ['FOLLOW', 'SHARE', 'SUBSCRIBE'].includes(event.eventType)).map((event) => [event.eventId, event])).values()];
    const count = (type: string) => social.filter((event) => event.eventType === type).length;
    expect([count('FOLLOW'), count('SHARE'), count('SUBSCRIBE')]).toEqual([14, 7, 1]);

    const expected = social.map((event) => {
      const user = userOf(event);
      const base = { alertId: event.eventId, update: false, final: true, user, value: 0 };
      if (event.eventType === 'FOLLOW')
        return { ...base, type: 'follow', text: `${user.displayName} followed!`, durationMs: 5000, group: { key: 'follow', template: '{count} new followers!' } };
      if (event.eventType === 'SHARE')
        return { ...base, type: 'share', text: `${user.displayName} shared the stream!`, durationMs: 4000, group: { key: 'share', template: '{count} viewers shared the stream!' } };
      const subMonth = (event.payload as PayloadOf<'SUBSCRIBE'>).subMonth;
      return { ...base, type: 'subscribe', text: `${user.displayName} subscribed!`, durationMs: 8000, subMonth, group: { key: 'subscribe', template: '{count} new subscribers!' } };
    });

    const host = await startHost();
    await host.send(...events);
    expect(alertsOf(host).filter((alert) => alert.type !== 'gift')).toEqual(expected);
    expect(alertsOf(host).find((alert) => alert.type === 'subscribe')).toMatchObject({ text: 'Viewer 3083d033 subscribed!', subMonth: 1 });
    expect(host.faults).toEqual([]);
  });

  it('uses the configured templates and sends nothing for a disabled type', async () => {
    const host = await startHost({
      follow: { template: 'Welcome @{uniqueId} ({user})!', groupTemplate: '{count} friends joined us!', durationMs: 3000 },
      share: { enabled: false },
      subscribe: { template: '{user}: month {subMonth}' },
    });
    const follow = makeEvent('FOLLOW', { displayType: 'pm_mt_msg_viewer_follow' }, { user: { userId: '6800000000000000007', uniqueId: 'ana', displayName: 'Ana' } });
    const share = makeEvent('SHARE', { displayType: 'pm_mt_msg_viewer_share' });
    const subscribe = makeEvent('SUBSCRIBE', { subMonth: 3 }, { user: { userId: '6800000000000000008', uniqueId: 'bo', displayName: '' } });
    await host.send(follow, share, subscribe);
    expect(alertsOf(host)).toEqual([
      {
        type: 'follow',
        alertId: follow.eventId,
        update: false,
        final: true,
        text: 'Welcome @ana (Ana)!',
        durationMs: 3000,
        user: { uniqueId: 'ana', displayName: 'Ana', avatarUrl: null },
        value: 0,
        group: { key: 'follow', template: '{count} friends joined us!' },
      },
      {
        type: 'subscribe',
        alertId: subscribe.eventId,
        update: false,
        final: true,
        // An empty display name falls back to the @handle.
        text: 'bo: month 3',
        durationMs: 8000,
        user: { uniqueId: 'bo', displayName: 'bo', avatarUrl: null },
        subMonth: 3,
        value: 0,
        group: { key: 'subscribe', template: '{count} new subscribers!' },
      },
    ]);
    expect(host.faults).toEqual([]);
  });

  it('alerts a re-delivered event (same eventId) only once', async () => {
    const host = await startHost();
    const follow = makeEvent('FOLLOW', { displayType: 'pm_mt_msg_viewer_follow' });
    await host.send(follow, follow, singleGift(5), follow);
    expect(alertsOf(host).map((alert) => alert.type)).toEqual(['follow', 'gift']);
  });

  it('rejects a template token the alert type has no value for', async () => {
    await expect(startHost({ follow: { template: '{user} sent {giftName}' } })).rejects.toThrow('/follow/template must match pattern');
    await expect(startHost({ gift: { template: '{user} {subMonth}' } })).rejects.toThrow('/gift/template must match pattern');
    await expect(startHost({ follow: { groupTemplate: '{user} and {count} others' } })).rejects.toThrow('/follow/groupTemplate must match pattern');
  });
});

describe('gift alerts', () => {
  it('makes each streak of a real stream one alert whose count only rises', async () => {
    const events = captureEvents('ab.capture.ndjson');
    const gifts = events.filter(isGift);
    const streakKeys = new Set(gifts.filter((event) => event.payload!.isGiftStreak).map(streakKey));
    expect(gifts.some((event) => !event.payload!.isGiftStreak)).toBe(false);

    const host = await startHost();
    await host.send(...events);
    const alerts = byAlert(giftAlertsOf(host));
    expect(alerts.size).toBe(streakKeys.size);
    expect(streakKeys.size).toBe(9);

    // The longest streak: its messages arrived as 13, 15, 14, 17, 16, 18 … 23 and it never ended.
    const rose = gifts.filter((event) => event.user.uniqueId === 'viewer_68f584f2');
    expect(rose.map((event) => event.payload!.giftCount)).toEqual([13, 15, 14, 17, 16, 18, 19, 20, 21, 22, 23]);
    const roseAlert = alerts.get(rose[0]!.eventId)!;
    expect(roseAlert.map((alert) => alert.count)).toEqual([13, 15, 17, 18, 19, 20, 21, 22, 23]);
    expect(roseAlert.map((alert) => alert.coins)).toEqual([13, 15, 17, 18, 19, 20, 21, 22, 23]);
    expect(roseAlert.map((alert) => alert.update)).toEqual([false, true, true, true, true, true, true, true, true]);
    expect(roseAlert.every((alert) => !alert.final)).toBe(true);
    expect(roseAlert[0]).toEqual({
      type: 'gift',
      alertId: rose[0]!.eventId,
      update: false,
      final: false,
      text: 'Viewer ad160207 sent Rose ×13',
      durationMs: 6000,
      user: userOf(rose[0]!),
      giftName: 'Rose',
      giftImageUrl: rose[0]!.payload!.giftImageUrl,
      count: 13,
      coins: 13,
      value: 13,
      group: null,
    });

    // Every streak whose end message arrived ends its alert with a final message, at its highest count.
    for (const key of streakKeys) {
      const messages = gifts.filter((event) => streakKey(event) === key);
      const alert = alerts.get(messages[0]!.eventId)!;
      const ended = messages.some((event) => event.payload!.streakEnd);
      expect(alert.at(-1)).toMatchObject({ final: ended, count: Math.max(...messages.map((event) => event.payload!.giftCount)) });
      expect(alert.filter((message) => message.final)).toHaveLength(ended ? 1 : 0);
    }
    expect(host.faults).toEqual([]);
  });

  it('applies minCoins to the coins of the whole streak', async () => {
    const events = captureEvents('link.capture.ndjson');
    const gifts = events.filter(isGift);
    const streakCoins = new Map<string, number>();
    for (const event of gifts.filter((gift) => gift.payload!.isGiftStreak))
      streakCoins.set(streakKey(event), Math.max(streakCoins.get(streakKey(event)) ?? 0, event.payload!.coins));
    const worthy = [...streakCoins].filter(([, coins]) => coins >= 10).map(([key]) => key);
    expect(worthy).toHaveLength(3);
    expect(gifts.filter((event) => !event.payload!.isGiftStreak && event.payload!.coins >= 10)).toEqual([]);

    const host = await startHost({ gift: { minCoins: 10 } });
    await host.send(...events);
    const alerts = byAlert(giftAlertsOf(host));
    expect(alerts.size).toBe(worthy.length);

    // The streak that reached 11 roses (1 coin each): its alert starts at 10 coins.
    const key = worthy.find((candidate) => gifts.some((event) => streakKey(event) === candidate && event.payload!.giftCount === 11))!;
    const messages = gifts.filter((event) => streakKey(event) === key);
    expect(messages.map((event) => [event.payload!.giftCount, event.payload!.streakEnd])).toEqual([
      [1, false],
      [3, false],
      [7, false],
      [10, false],
      [11, false],
      [11, true],
    ]);
    expect(alerts.get(messages[3]!.eventId)!.map(({ count, coins, update, final }) => ({ count, coins, update, final }))).toEqual([
      { count: 10, coins: 10, update: false, final: false },
      { count: 11, coins: 11, update: true, final: false },
      { count: 11, coins: 11, update: true, final: true },
    ]);
    expect(host.faults).toEqual([]);
  });

  it('alerts a single (non-streak) gift once when it is worth minCoins', async () => {
    const events = captureEvents('giftsCollector.capture.ndjson');
    const expensive = events.filter(isGift).filter((event) => event.payload!.coins >= 100);
    expect(expensive).toHaveLength(1);
    const host = await startHost({ gift: { minCoins: 100, template: '{user} ({uniqueId}): {count}× {giftName} = {coins} coins' } });
    await host.send(...events);
    const gift = expensive[0]!;
    expect(giftAlertsOf(host)).toEqual([
      {
        type: 'gift',
        alertId: gift.eventId,
        update: false,
        final: true,
        text: `${gift.user.displayName} (${gift.user.uniqueId}): 1× LIVE Fest Clappers = 100 coins`,
        durationMs: 6000,
        user: userOf(gift),
        giftName: 'LIVE Fest Clappers',
        giftImageUrl: gift.payload!.giftImageUrl,
        count: 1,
        coins: 100,
        value: 100,
        group: null,
      },
    ]);
  });

  it('ignores stale counts and messages of a streak that already ended', async () => {
    const host = await startHost();
    const roses = streak('6800000000000000011', 1);
    const [first, second, stale, end, late] = [roses.active(1), roses.active(3), roses.active(2), roses.end(3), roses.active(2)];
    await host.send(first, second, stale, end, late);
    const summary = giftAlertsOf(host).map(({ alertId, count, update, final }) => ({ alertId, count, update, final }));
    expect(summary).toEqual([
      { alertId: first.eventId, count: 1, update: false, final: false },
      { alertId: first.eventId, count: 3, update: true, final: false },
      { alertId: first.eventId, count: 3, update: true, final: true },
    ]);
  });

  it('alerts a streak seen only by its end message once, as a final alert', async () => {
    const host = await startHost({ gift: { minCoins: 5 } });
    const cheap = streak('6800000000000000012', 1).end(4);
    const dear = streak('6800000000000000013', 2).end(3);
    await host.send(cheap, dear);
    expect(giftAlertsOf(host)).toMatchObject([{ alertId: dear.eventId, count: 3, coins: 6, update: false, final: true }]);
  });

  it('closes a streak whose end never arrives after streakTimeoutMs', async () => {
    const host = await startHost({ gift: { minCoins: 3, streakTimeoutMs: 100 } });
    const open = streak('6800000000000000014', 1);
    const belowMin = streak('6800000000000000015', 1);
    await host.send(open.active(2), belowMin.active(1), open.active(4));
    await vi.waitFor(() => expect(giftAlertsOf(host)).toHaveLength(2), { timeout: HANG_MS });
    expect(giftAlertsOf(host).map(({ count, update, final }) => ({ count, update, final }))).toEqual([
      { count: 4, update: false, final: false },
      { count: 4, update: true, final: true },
    ]);
    // The streak is closed: a late message of it starts nothing.
    await host.send(open.active(5));
    expect(giftAlertsOf(host)).toHaveLength(2);
    expect(host.faults).toEqual([]);
  });
});

describe('gift alerts on the events’ own time', () => {
  it('ends an alert whose streak end never came once a later gift is stamped streakTimeoutMs after it, as in a replay', async () => {
    const host = await startHost({ gift: { streakTimeoutMs: 10_000 } });
    const start = Date.parse('2023-10-18T13:10:23.000Z');
    const stamped = <E extends UnifiedEvent>(event: E, seconds: number): E => ({ ...event, timestamp: new Date(start + seconds * 1000).toISOString() });
    const roses = streak('6800000000000000016', 1);
    await host.send(stamped(roses.active(2), 0), stamped(roses.active(3), 1), stamped(singleGift(5), 11));
    expect(giftAlertsOf(host).map(({ type, count, update, final }) => ({ type, count, update, final }))).toEqual([
      { type: 'gift', count: 2, update: false, final: false },
      { type: 'gift', count: 3, update: true, final: false },
      { type: 'gift', count: 3, update: true, final: true },
      { type: 'gift', count: 1, update: false, final: true },
    ]);
    expect(host.faults).toEqual([]);
  });
});

describe('renderTemplate', () => {
  it('substitutes known tokens once and leaves anything else as written', () => {
    const values = { user: 'Ana {count}', count: 3 };
    expect(renderTemplate('{user} ×{count}, {count}!', values)).toBe('Ana {count} ×3, 3!');
    expect(renderTemplate('{constructor} {toString} {giftName} { user } {', values)).toBe('{constructor} {toString} {giftName} { user } {');
  });
});
