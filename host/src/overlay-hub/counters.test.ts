import { describe, expect, it } from 'vitest';
import { StreamCounters, type StreamCountersState } from './counters.ts';
import { newSessionId, testEvent } from '../../test/support/overlay-stack.ts';

describe('StreamCounters', () => {
  it('tallies likes, viewers, follows, shares and coins, a gift streak counted once at its end', () => {
    const published: StreamCountersState[] = [];
    const counters = new StreamCounters({ intervalMs: 60_000, publish: (state) => published.push(state) });
    const session = newSessionId();
    counters.observe([
      testEvent('LIKE', session, { likeCount: 10, totalLikeCount: 10 }),
      testEvent('LIKE', session, { likeCount: 15, totalLikeCount: 25 }),
      testEvent('JOIN', session, { viewerCount: 7 }),
      testEvent('JOIN', session, {}),
      testEvent('FOLLOW', session, { displayType: 'pm_mt_msg_viewer_follow' }),
      testEvent('FOLLOW', session, { displayType: 'pm_mt_msg_viewer_follow' }),
      testEvent('SHARE', session, { displayType: 'pm_mt_msg_viewer_share' }),
      testEvent('GIFT', session, { giftId: 1, giftName: 'Rose', giftCount: 1, coins: 5 }),
      testEvent('GIFT', session, { giftId: 2, giftName: 'Heart', giftCount: 1, coins: 1, isGiftStreak: true, streakActive: true }),
      testEvent('GIFT', session, { giftId: 2, giftName: 'Heart', giftCount: 2, coins: 2, isGiftStreak: true, streakActive: true }),
      testEvent('GIFT', session, { giftId: 2, giftName: 'Heart', giftCount: 3, coins: 3, isGiftStreak: true, streakEnd: true }),
      testEvent('CHAT', session, { message: 'hi' }),
    ]);
    counters.flush();
    expect(published).toEqual([{ sessionId: session, likes: 25, viewers: 7, follows: 2, shares: 1, coins: 8 }]);
    counters.flush();
    expect(published).toHaveLength(1);
    counters.close();
  });

  it('starts over for a new session and ignores late events of the one it left', () => {
    const counters = new StreamCounters({ intervalMs: 60_000, publish: () => undefined });
    const [first, second] = [newSessionId(), newSessionId()];
    counters.observe([testEvent('FOLLOW', first, { displayType: 'pm_mt_msg_viewer_follow' })]);
    counters.observe([testEvent('CONNECTED', second, {})]);
    expect(counters.state).toEqual({ sessionId: second, likes: 0, viewers: null, follows: 0, shares: 0, coins: 0 });
    counters.observe([testEvent('FOLLOW', first, { displayType: 'pm_mt_msg_viewer_follow' }), testEvent('SHARE', second, { displayType: 'pm_mt_msg_viewer_share' })]);
    expect(counters.state).toMatchObject({ sessionId: second, follows: 0, shares: 1 });
    counters.close();
  });

  it('publishes a change at once after a quiet spell, then at most once per interval', async () => {
    const published: Array<{ at: number; state: StreamCountersState }> = [];
    const counters = new StreamCounters({ intervalMs: 100, publish: (state) => published.push({ at: Date.now(), state }) });
    const session = newSessionId();
    const started = Date.now();
    for (let n = 1; n <= 12; n += 1) {
      counters.observe([testEvent('LIKE', session, { likeCount: 1, totalLikeCount: n })]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
    counters.close();
    expect(published[0]!.at - started).toBeLessThan(50);
    for (let index = 1; index < published.length; index += 1) expect(published[index]!.at - published[index - 1]!.at).toBeGreaterThanOrEqual(99);
    expect(published.length).toBeLessThanOrEqual(5);
    expect(published.at(-1)!.state.likes).toBe(12);
  });
});
