/**
 * One coin total for every capture, wherever gifts are counted: the goals bar, the leaderboard,
 * the alerts and the host's counters all follow gift streaks with `GiftStreaks`, and each must
 * agree with a count made here from the capture alone.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { UnifiedEvent, UnifiedEventOf } from '@ttlp/sdk';
import { createTestHost, makeEvent } from '@ttlp/sdk/testing';
import { StreamCounters } from '../src/overlay-hub/counters.ts';
import { captureEvents, captureFiles } from './support/captures.ts';
import { waitFor } from './support/patience.ts';

const pluginDir = (id: string) => fileURLToPath(new URL(`../../plugins/${id}`, import.meta.url));

/**
 * Coins counted from the capture: per streak (sender, groupId, gift) its highest repeat count
 * times the gift's price, and every other gift its count times its price.
 */
function independentCoins(events: UnifiedEvent[]): number {
  let coins = 0;
  const streaks = new Map<string, { count: number; price: number }>();
  for (const event of events) {
    if (event.eventType !== 'GIFT') continue;
    const gift = event.payload!;
    const price = gift.diamondCount!;
    if (!gift.isGiftStreak) {
      coins += gift.giftCount * price;
      continue;
    }
    expect(gift.groupId, 'every streak message in the captures has a groupId').toBeDefined();
    const key = [event.user.userId, gift.groupId, gift.giftId].join('/');
    streaks.set(key, { count: Math.max(streaks.get(key)?.count ?? 0, gift.giftCount), price });
  }
  for (const { count, price } of streaks.values()) coins += count * price;
  return coins;
}

async function goalsCoins(events: UnifiedEvent[]): Promise<number> {
  const host = await createTestHost({ plugin: pluginDir('goals'), config: { goals: [{ id: 'c', kind: 'coins', target: 1_000_000, title: 'Coins' }] } });
  try {
    await host.send(...events);
    expect(host.faults).toEqual([]);
    return (host.state('goals') as { goals: Array<{ current: number }> }).goals[0]!.current;
  } finally {
    await host.close();
  }
}

async function leaderboardCoins(events: UnifiedEvent[]): Promise<number> {
  const host = await createTestHost({ plugin: pluginDir('leaderboard'), config: { size: 100, publishIntervalMs: 10 } });
  try {
    // The board is published on a timer: a like sent last tells which publication has every gift.
    const last = makeEvent('LIKE', { likeCount: 1, totalLikeCount: 0 }, { sessionId: events[0]!.sessionId, user: { userId: '6899999999999999999' } });
    await host.send(...events, last);
    const board = () => host.state('leaderboard') as { gifters: Array<{ coins: number }>; likers: Array<{ userId: string }> } | undefined;
    await waitFor(() => board()?.likers.some((liker) => liker.userId === last.user.userId) === true, 'the board after the last event');
    expect(host.faults).toEqual([]);
    return board()!.gifters.reduce((sum, gifter) => sum + gifter.coins, 0);
  } finally {
    await host.close();
  }
}

async function alertsCoins(events: UnifiedEvent[]): Promise<number> {
  const host = await createTestHost({ plugin: pluginDir('alerts') });
  try {
    await host.send(...events);
    expect(host.faults).toEqual([]);
    // Each alert (a gift, or a whole streak) ends at its highest coins.
    const shown = new Map<string, number>();
    for (const alert of host.messages('alerts') as Array<{ type: string; alertId: string; coins: number }>)
      if (alert.type === 'gift') shown.set(alert.alertId, Math.max(shown.get(alert.alertId) ?? 0, alert.coins));
    return [...shown.values()].reduce((sum, coins) => sum + coins, 0);
  } finally {
    await host.close();
  }
}

function hostCounterCoins(events: UnifiedEvent[]): number {
  const counters = new StreamCounters({ intervalMs: 60_000, publish: () => undefined });
  counters.observe(events);
  counters.close();
  return counters.state.coins;
}

describe('gift coins over the shared captures', () => {
  it.each(captureFiles())('%s: goals, leaderboard, alerts and the host counters give the coins counted from the capture', async (file) => {
    const events = captureEvents(file);
    const expected = independentCoins(events);
    const totals = {
      goals: await goalsCoins(events),
      leaderboard: await leaderboardCoins(events),
      alerts: await alertsCoins(events),
      counters: hostCounterCoins(events),
    };
    expect(totals).toEqual({ goals: expected, leaderboard: expected, alerts: expected, counters: expected });
  });

  it('pins ab, where adding every message gives 233 coins and counting end messages only gives 1', () => {
    const events = captureEvents('ab.capture.ndjson');
    const gifts = events.filter((event): event is UnifiedEventOf<'GIFT'> => event.eventType === 'GIFT');
    expect(independentCoins(events)).toBe(53);
    expect(gifts.reduce((sum, event) => sum + event.payload!.coins, 0)).toBe(233);
    expect(gifts.filter((event) => event.payload!.streakEnd).reduce((sum, event) => sum + event.payload!.coins, 0)).toBe(1);
  });
});
