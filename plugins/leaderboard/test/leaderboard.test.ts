import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EventUser, Json, UnifiedEvent } from '@ttlp/sdk';
import { createTestHost, makeEvent, ROOMY_CPU_LIMITS, type TestHost } from '@ttlp/sdk/testing';
import { captureEvents } from '../../../host/test/support/captures.ts';

const plugin = fileURLToPath(new URL('..', import.meta.url));

const S1 = '00000000-0000-4000-8000-0000000000b1';
const S2 = '00000000-0000-4000-8000-0000000000b2';

const ALICE = '6800000000000000001';
const BOB = '6800000000000000002';

/** One message of a Rose streak (1 coin each): `count` is the running repeat count. */
const rose = (userId: string, groupId: string, count: number, end = false, sessionId = S1) =>
  makeEvent(
    'GIFT',
    { giftId: 5655, giftName: 'Rose', giftCount: count, coins: count, diamondCount: 1, isGiftStreak: true, streakActive: !end, streakEnd: end, groupId },
    { sessionId, user: { userId } },
  );
/** A gift that is not part of a streak. */
const single = (userId: string, coins: number, sessionId = S1) =>
  makeEvent('GIFT', { giftId: 6000, giftName: 'Heart Me', giftCount: 1, coins, diamondCount: coins, isGiftStreak: false }, { sessionId, user: { userId } });
const like = (userId: string, likeCount: number, sessionId = S1) =>
  makeEvent('LIKE', { likeCount, totalLikeCount: 0 }, { sessionId, user: { userId } });

type Board = { gifters: Array<Record<string, Json>>; likers: Array<Record<string, Json>> };
/** Tests publish every 10 ms instead of 250. */
const FAST = { publishIntervalMs: 10 };
/** The board once the plugin's publish timer has run. */
const board = async (host: TestHost) => {
  await host.timersRun();
  return host.state('leaderboard') as Board;
};
/** `event` stamped `ms` after a fixed instant: gift streaks are timed by their events' own time, not a clock. */
const at = <E extends UnifiedEvent>(ms: number, event: E): E => ({ ...event, timestamp: new Date(Date.UTC(2026, 0, 1) + ms).toISOString() });
const coins = async (host: TestHost) => (await board(host)).gifters.map((gifter) => [gifter.userId, gifter.coins]);

/**
 * The leaderboard of a list of events, computed here independently of the plugin: a viewer's coins
 * are their non-streak gift coins plus, per streak (sender + groupId + gift), the highest coins any
 * of its messages carries; likes are summed. Ties keep the order of the viewers' first gift or like.
 */
function expectedBoard(events: UnifiedEvent[], size: number): Board {
  const order: string[] = [];
  const profiles = new Map<string, EventUser>();
  const singles = new Map<string, number>();
  const streaks = new Map<string, { userId: string; coins: number }>();
  const likes = new Map<string, number>();
  for (const event of events) {
    if (event.eventType !== 'GIFT' && event.eventType !== 'LIKE') continue;
    const { userId } = event.user;
    if (!order.includes(userId)) order.push(userId);
    profiles.set(userId, event.user);
    if (event.eventType === 'LIKE') {
      likes.set(userId, (likes.get(userId) ?? 0) + event.payload!.likeCount);
      continue;
    }
    const gift = event.payload!;
    if (!gift.isGiftStreak) {
      singles.set(userId, (singles.get(userId) ?? 0) + gift.coins);
      continue;
    }
    expect(gift.groupId, 'every streak message in the captures has a groupId').toBeDefined();
    const key = [userId, gift.groupId, gift.giftId].join('/');
    streaks.set(key, { userId, coins: Math.max(streaks.get(key)?.coins ?? 0, gift.coins) });
  }
  const giftCoins = new Map(singles);
  for (const { userId, coins } of streaks.values()) giftCoins.set(userId, (giftCoins.get(userId) ?? 0) + coins);
  const viewer = (userId: string) => {
    const user = profiles.get(userId)!;
    return { userId, uniqueId: user.uniqueId, displayName: user.displayName ?? user.uniqueId, avatarUrl: user.avatarUrl ?? null };
  };
  const ranked = (totals: Map<string, number>) =>
    order
      .filter((userId) => (totals.get(userId) ?? 0) > 0)
      .sort((a, b) => totals.get(b)! - totals.get(a)!)
      .slice(0, size);
  return {
    gifters: ranked(giftCoins).map((userId) => ({ ...viewer(userId), coins: giftCoins.get(userId)! })),
    likers: ranked(likes).map((userId) => ({ ...viewer(userId), likes: likes.get(userId)! })),
  };
}

describe('leaderboard over the real captures', () => {
  const files = ['ab', 'dupa', 'giftsCollector', 'jw', 'link', 'log', 'singles', 'web'].map((name) => `${name}.capture.ndjson`);

  it.each(files)('%s: top gifters by coins with each streak once, top likers by likes', async (file) => {
    const events = captureEvents(file);
    const host = await createTestHost({ plugin, config: { ...FAST, size: 5 }, limits: ROOMY_CPU_LIMITS });
    await host.send(...events);
    expect((await board(host))).toEqual(expectedBoard(events, 5));
    expect(host.faults).toEqual([]);
    await host.close();
  });

  it('ranks ab exactly: the viewer with the long out-of-order Rose streak first, with its final 23 coins', async () => {
    const events = captureEvents('ab.capture.ndjson');
    const host = await createTestHost({ plugin, config: { ...FAST, size: 3 }, limits: ROOMY_CPU_LIMITS });
    await host.send(...events);
    // Pinned so that a change in the captures or the normalizer shows up here.
    expect((await board(host)).gifters.map((gifter) => [gifter.uniqueId, gifter.coins])).toEqual([
      ['viewer_68f584f2', 23],
      ['viewer_93839cd6', 13],
      ['viewer_5876140d', 5],
    ]);
    await host.close();
  });
});

describe('leaderboard', () => {
  it('publishes an empty board at start', async () => {
    const host = await createTestHost({ plugin, config: FAST });
    expect((await board(host))).toEqual({ gifters: [], likers: [] });
    await host.close();
  });

  it('shows a running streak with its current coins and counts it once, whatever the order', async () => {
    const host = await createTestHost({ plugin, config: FAST });
    const seen: unknown[] = [];
    for (const event of [
      rose(ALICE, '1700000000001', 1),
      rose(ALICE, '1700000000001', 4),
      rose(ALICE, '1700000000001', 3), // arrives late
      single(BOB, 5),
      rose(ALICE, '1700000000001', 6, true),
      rose(ALICE, '1700000000001', 5), // after the end
      rose(BOB, '1700000000001', 2, true), // same groupId, another sender
    ]) {
      await host.send(event);
      seen.push((await coins(host)));
    }
    expect(seen).toEqual([
      [[ALICE, 1]],
      [[ALICE, 4]],
      [[ALICE, 4]],
      [[BOB, 5], [ALICE, 4]],
      [[ALICE, 6], [BOB, 5]],
      [[ALICE, 6], [BOB, 5]],
      [[BOB, 7], [ALICE, 6]],
    ]);
    expect((await board(host)).gifters[0]).toEqual({ userId: BOB, uniqueId: 'viewer_0002', displayName: 'Viewer 0002', avatarUrl: null, coins: 7 });
    expect(host.faults).toEqual([]);
    await host.close();
  });

  it('ranks likers by summed likes, counts a re-delivered event once, and shows `size` places', async () => {
    const host = await createTestHost({ plugin, config: { ...FAST, size: 2 } });
    const repeated = like(BOB, 10);
    await host.send(like(ALICE, 5), repeated, repeated, like('6800000000000000003', 7), like(ALICE, 5));
    expect((await board(host)).likers.map((liker) => [liker.userId, liker.likes])).toEqual([
      [ALICE, 10],
      [BOB, 10],
    ]);
    expect(host.faults).toEqual([]);
    await host.close();
  });

  it('closes a streak whose end never comes after the timeout, and counts its late messages only beyond its coins', async () => {
    const host = await createTestHost({ plugin, config: { ...FAST, streakTimeoutMs: 30 } });
    await host.send(at(0, rose(ALICE, '1700000000002', 3)));
    await host.send(at(120, rose(ALICE, '1700000000002', 2)), at(120, rose(ALICE, '1700000000002', 3, true)));
    expect((await coins(host))).toEqual([[ALICE, 3]]);
    await host.send(at(121, rose(ALICE, '1700000000002', 5)));
    expect((await coins(host))).toEqual([[ALICE, 5]]);
    expect(host.faults).toEqual([]);
    await host.close();
  });

  it('counts more streaks open at once than a plugin may hold timers (64), each once', async () => {
    const host = await createTestHost({ plugin, config: { ...FAST, size: 100, streakTimeoutMs: 50 } });
    const gifters = Array.from({ length: 80 }, (_, i) => String(6_900_000_000_000_000_000n + BigInt(i)));
    await host.send(...gifters.map((userId) => at(0, rose(userId, '1700000000003', 2))));
    await host.send(...gifters.map((userId) => at(150, rose(userId, '1700000000003', 2, true))));
    expect((await board(host)).gifters).toHaveLength(80);
    expect(new Set((await coins(host)).map(([, total]) => total))).toEqual(new Set([2]));
    expect(host.faults).toEqual([]);
    await host.close();
  });

  it('starts an empty board for a new session', async () => {
    const host = await createTestHost({ plugin, config: FAST });
    await host.send(single(ALICE, 10), like(ALICE, 3), rose(BOB, '1700000000004', 2));
    expect((await board(host)).gifters).toHaveLength(2);
    await host.send(like(BOB, 0, S2));
    expect((await board(host))).toEqual({ gifters: [], likers: [] });
    await host.send(rose(BOB, '1700000000004', 4, true, S2));
    expect((await coins(host))).toEqual([[BOB, 4]]);
    expect(host.faults).toEqual([]);
    await host.close();
  });
});
