import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Json, UnifiedEvent } from '@ttlp/sdk';
import { createTestHost, makeEvent, ROOMY_CPU_LIMITS, type TestHost } from '@ttlp/sdk/testing';
import { captureEvents } from '../../../host/test/support/captures.ts';
import { waitFor } from '../../../host/test/support/patience.ts';

const plugin = fileURLToPath(new URL('..', import.meta.url));

const S1 = '00000000-0000-4000-8000-0000000000a1';
const S2 = '00000000-0000-4000-8000-0000000000a2';
const S3 = '00000000-0000-4000-8000-0000000000a3';
const S4 = '00000000-0000-4000-8000-0000000000a4';

type Kind = 'likes' | 'follows' | 'coins';
type Totals = Record<Kind, number>;

/** Goals with targets too high to be reached, so only the counting is under test. */
const unreachable = [
  { id: 'l', kind: 'likes', target: 1_000_000, title: 'Likes' },
  { id: 'f', kind: 'follows', target: 1_000_000, title: 'Follows' },
  { id: 'c', kind: 'coins', target: 1_000_000, title: 'Coins' },
];

const like = (likeCount: number, sessionId = S1) => makeEvent('LIKE', { likeCount, totalLikeCount: 0 }, { sessionId });
const follow = (sessionId = S1) =>
  makeEvent('FOLLOW', { displayType: 'pm_mt_msg_viewer_follow' }, { sessionId, user: { userId: '6800000000000000042' } });
/** A gift that is not part of a streak. */
const single = (coins: number, userId = '6800000000000000011') =>
  makeEvent('GIFT', { giftId: 6000, giftName: 'Heart Me', giftCount: 1, coins, diamondCount: coins, isGiftStreak: false }, { sessionId: S1, user: { userId } });
/** One message of a Rose streak (1 coin each): `count` is the running repeat count. */
const rose = (userId: string, count: number, end: boolean, groupId?: string) =>
  makeEvent(
    'GIFT',
    {
      giftId: 5655,
      giftName: 'Rose',
      giftCount: count,
      coins: count,
      diamondCount: 1,
      isGiftStreak: true,
      streakActive: !end,
      streakEnd: end,
      ...(groupId === undefined ? {} : { groupId }),
    },
    { sessionId: S1, user: { userId } },
  );

/**
 * The totals of a list of events, computed here independently of the plugin: likes summed, follows
 * counted, non-streak gift coins summed, and each streak (sender + groupId + gift) counted once with
 * the highest coins any of its messages carries.
 */
function totalsOf(events: UnifiedEvent[]): Totals {
  let likes = 0;
  let follows = 0;
  let singles = 0;
  const streakCoins = new Map<string, number>();
  for (const event of events) {
    if (event.eventType === 'LIKE') likes += event.payload!.likeCount;
    if (event.eventType === 'FOLLOW') follows += 1;
    if (event.eventType !== 'GIFT') continue;
    const gift = event.payload!;
    if (!gift.isGiftStreak) {
      singles += gift.coins;
      continue;
    }
    expect(gift.groupId, 'every streak message in the captures has a groupId').toBeDefined();
    const key = [event.user.userId, gift.groupId, gift.giftId].join('/');
    streakCoins.set(key, Math.max(streakCoins.get(key) ?? 0, gift.coins));
  }
  return { likes, follows, coins: singles + [...streakCoins.values()].reduce((sum, coins) => sum + coins, 0) };
}

const bars = (host: TestHost) => (host.state('goals') as { goals: Array<Record<string, Json>> }).goals;
const current = (host: TestHost, id: string) => bars(host).find((goal) => goal.id === id)?.current;

describe('goals over the real captures', () => {
  const files = ['ab', 'dupa', 'giftsCollector', 'jw', 'link', 'log', 'singles', 'web'].map((name) => `${name}.capture.ndjson`);

  it.each(files)('%s: likes, follows and coins add up, each gift streak counted once', async (file) => {
    const events = captureEvents(file);
    const expected = totalsOf(events);
    const host = await createTestHost({ plugin, config: { goals: unreachable }, limits: ROOMY_CPU_LIMITS });
    await host.send(...events);
    expect(bars(host)).toEqual([
      { id: 'l', kind: 'likes', title: 'Likes', current: expected.likes, target: 1_000_000, percent: 0, reached: false },
      { id: 'f', kind: 'follows', title: 'Follows', current: expected.follows, target: 1_000_000, percent: 0, reached: false },
      { id: 'c', kind: 'coins', title: 'Coins', current: expected.coins, target: 1_000_000, percent: 0, reached: false },
    ]);
    expect(host.messages('goals')).toEqual([]);
    expect(host.faults).toEqual([]);
    await host.close();
  });

  it('gives the exact totals of ab and giftsCollector, where adding up streak messages would overcount', () => {
    const naiveCoins = (events: UnifiedEvent[]) =>
      events.reduce((sum, event) => sum + (event.eventType === 'GIFT' ? event.payload!.coins : 0), 0);
    const ab = captureEvents('ab.capture.ndjson');
    const gifts = captureEvents('giftsCollector.capture.ndjson');
    // Pinned so that a change in the captures or the normalizer shows up here, not as a silent shift.
    expect(totalsOf(ab)).toEqual({ likes: 233, follows: 11, coins: 53 });
    expect(naiveCoins(ab)).toBe(233);
    expect(totalsOf(gifts)).toEqual({ likes: 253, follows: 14, coins: 148 });
    expect(naiveCoins(gifts)).toBe(159);
  });

  it('announces each goal once, at the event that reaches it (giftsCollector)', async () => {
    const events = captureEvents('giftsCollector.capture.ndjson');
    const goals = [
      { id: 'likes-100', kind: 'likes', target: 100, title: '100 likes' },
      { id: 'follows-5', kind: 'follows', target: 5, title: '5 follows' },
      { id: 'coins-20', kind: 'coins', target: 20, title: '20 coins' },
      { id: 'coins-120', kind: 'coins', target: 120, title: '120 coins' },
    ] as const;
    // Where each goal is reached, found by totalling ever longer prefixes of the capture.
    const expected: Array<{ at: number; message: Json }> = [];
    for (const goal of goals) {
      const at = events.findIndex((_, i) => totalsOf(events.slice(0, i + 1))[goal.kind] >= goal.target);
      expect(at).toBeGreaterThanOrEqual(0);
      const value = totalsOf(events.slice(0, at + 1))[goal.kind];
      expected.push({ at, message: { type: 'reached', goalId: goal.id, kind: goal.kind, title: goal.title, current: value, target: goal.target } });
    }
    expected.sort((a, b) => a.at - b.at);

    const host = await createTestHost({ plugin, config: { goals }, limits: ROOMY_CPU_LIMITS });
    await host.send(...events);
    expect(host.messages('goals')).toEqual(expected.map((entry) => entry.message));
    const totals = totalsOf(events);
    expect(bars(host).map((goal) => [goal.id, goal.current, goal.percent, goal.reached])).toEqual([
      ['likes-100', totals.likes, 100, true],
      ['follows-5', totals.follows, 100, true],
      ['coins-20', totals.coins, 100, true],
      ['coins-120', totals.coins, 100, true],
    ]);
    expect(host.faults).toEqual([]);
    await host.close();
  });
});

describe('goals', () => {
  it('starts with the default goals at zero', async () => {
    const host = await createTestHost({ plugin });
    expect(host.state('goals')).toEqual({
      goals: [
        { id: 'likes', kind: 'likes', title: 'Likes', current: 0, target: 1000, percent: 0, reached: false },
        { id: 'follows', kind: 'follows', title: 'New followers', current: 0, target: 50, percent: 0, reached: false },
        { id: 'coins', kind: 'coins', title: 'Coins', current: 0, target: 500, percent: 0, reached: false },
      ],
    });
    expect(host.faults).toEqual([]);
    await host.close();
  });

  it('moves the coin bar while a streak runs and ends with its final coins, whatever the order', async () => {
    const host = await createTestHost({ plugin, config: { goals: [{ id: 'c', kind: 'coins', target: 100, title: 'Coins' }] } });
    const seen: unknown[] = [];
    for (const event of [
      rose('6800000000000000001', 1, false, '1700000000001'),
      rose('6800000000000000001', 3, false, '1700000000001'),
      rose('6800000000000000001', 2, false, '1700000000001'), // arrives late
      rose('6800000000000000002', 4, false, '1700000000001'), // same groupId, another sender
      rose('6800000000000000001', 5, true, '1700000000001'),
      rose('6800000000000000001', 4, false, '1700000000001'), // after the end
    ]) {
      await host.send(event);
      seen.push(current(host, 'c'));
    }
    expect(seen).toEqual([1, 3, 3, 7, 9, 9]);
    expect(bars(host)[0]).toMatchObject({ current: 9, percent: 9, reached: false });
    expect(host.faults).toEqual([]);
    await host.close();
  });

  it('counts gifts outside streaks as they come, a streak without groupId at its end, and a re-delivered event once', async () => {
    const goals = [
      { id: 'c', kind: 'coins', target: 1000, title: 'Coins' },
      { id: 'l', kind: 'likes', target: 1000, title: 'Likes' },
    ];
    const host = await createTestHost({ plugin, config: { goals } });
    const gift = single(100);
    await host.send(gift, single(30), gift);
    expect(current(host, 'c')).toBe(130);
    await host.send(rose('6800000000000000003', 2, false), rose('6800000000000000003', 6, true));
    expect(current(host, 'c')).toBe(136);
    const repeatedLike = like(7);
    await host.send(repeatedLike, repeatedLike);
    expect(current(host, 'l')).toBe(7);
    expect(host.faults).toEqual([]);
    await host.close();
  });

  it('keeps the progress over a restart and starts a new session from zero', async () => {
    const config = { goals: [{ id: 'l', kind: 'likes', target: 10, title: 'Likes' }], saveIntervalMs: 10 };
    const first = await createTestHost({ plugin, config });
    await first.send(like(6), like(6));
    expect(first.messages('goals')).toEqual([{ type: 'reached', goalId: 'l', kind: 'likes', title: 'Likes', current: 12, target: 10 }]);
    await first.close();

    const second = await createTestHost({ plugin, config, kv: Object.fromEntries(first.kv) });
    // The restored bars are shown before any event.
    expect(current(second, 'l')).toBe(12);
    await second.send(like(3));
    expect(current(second, 'l')).toBe(15);
    expect(second.messages('goals')).toEqual([]);

    await second.send(like(2, S2));
    expect(bars(second)[0]).toMatchObject({ current: 2, percent: 20, reached: false });
    await second.send(like(1, S3), like(1, S4));
    // The latest session's progress is saved by the save timer.
    await second.timersRun();
    // Only the three latest sessions keep their progress.
    expect(second.kv.get('sessions')).toEqual([S4, S3, S2]);
    expect([...second.kv.keys()].sort()).toEqual(['progress:' + S2, 'progress:' + S3, 'progress:' + S4, 'sessions']);
    expect(second.faults).toEqual([]);
    await second.close();
  });

  it('counts a streak that runs over a restart once', async () => {
    const config = { goals: [{ id: 'c', kind: 'coins', target: 1000, title: 'Coins' }], saveIntervalMs: 10 };
    const first = await createTestHost({ plugin, config });
    await first.send(rose('6800000000000000004', 3, false, '1700000000002'));
    await waitFor(() => (first.kv.get(`progress:${S1}`) as { coins?: number } | undefined)?.coins === 3, 'the saved progress');
    await first.close();

    const second = await createTestHost({ plugin, config, kv: Object.fromEntries(first.kv) });
    await second.send(rose('6800000000000000004', 2, false, '1700000000002'), rose('6800000000000000004', 5, true, '1700000000002'));
    expect(current(second, 'c')).toBe(5);
    expect(second.faults).toEqual([]);
    await second.close();
  });

  it('announces a goal again when its target is raised', async () => {
    const first = await createTestHost({ plugin, config: { goals: [{ id: 'l', kind: 'likes', target: 10, title: 'Likes' }] } });
    await first.send(like(12));
    await first.close();
    const raised = await createTestHost({
      plugin,
      config: { goals: [{ id: 'l', kind: 'likes', target: 20, title: 'Likes' }] },
      kv: Object.fromEntries(first.kv),
    });
    expect(raised.messages('goals')).toEqual([]);
    await raised.send(like(5), like(5));
    expect(raised.messages('goals')).toEqual([{ type: 'reached', goalId: 'l', kind: 'likes', title: 'Likes', current: 22, target: 20 }]);
    await raised.close();
  });

  it('refuses goals with a repeated id, as the settings page does', async () => {
    const config = {
      goals: [
        { id: 'g', kind: 'likes', target: 5, title: 'Likes' },
        { id: 'g', kind: 'follows', target: 5, title: 'Follows' },
      ],
    };
    await expect(createTestHost({ plugin, config })).rejects.toThrow('/goals must not have two items with the same id');
  });
});
