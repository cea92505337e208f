import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { FOLLOW_DISPLAY_TYPE, SHARE_DISPLAY_TYPE } from '@ttlp/sdk';
import { StreamCounters, type StreamCountersState } from './counters.ts';
import { OverlayHub } from './hub.ts';
import { COUNTERS_CHANNEL } from './protocol.ts';
import { BUS_KINDS, newSessionId, openOverlayStack, overlayMessage, silentLog, testEvent, TestSocket, waitFor, type OverlayStack } from '../../test/support/overlay-stack.ts';

describe('StreamCounters', () => {
  it('tallies likes, viewers, follows, shares and coins, a gift streak counted once', () => {
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

  it('credits a streak’s coins as it runs, when its end message is lost or comes before its other messages', () => {
    const counters = new StreamCounters({ intervalMs: 60_000, publish: () => undefined });
    const session = newSessionId();
    const rose = (giftCount: number, groupId: string, end = false) =>
      testEvent('GIFT', session, { giftId: 5655, giftName: 'Rose', giftCount, coins: giftCount, isGiftStreak: true, streakActive: !end, streakEnd: end, groupId });
    counters.observe([rose(2, '1700000000001'), rose(4, '1700000000001')]);
    expect(counters.state.coins).toBe(4);
    counters.observe([rose(3, '1700000000002', true), rose(2, '1700000000002'), rose(3, '1700000000002')]);
    expect(counters.state.coins).toBe(7);
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

  it('publishes a change at once after a quiet spell, then at most once per interval', () => {
    // The clock is the test's: the timing is the behaviour here, whatever else the machine is doing.
    vi.useFakeTimers();
    onTestFinished(() => void vi.useRealTimers());
    const published: Array<{ at: number; state: StreamCountersState }> = [];
    const counters = new StreamCounters({ intervalMs: 100, publish: (state) => published.push({ at: Date.now(), state }) });
    const session = newSessionId();
    const started = Date.now();
    for (let n = 1; n <= 12; n += 1) {
      counters.observe([testEvent('LIKE', session, { likeCount: 1, totalLikeCount: n })]);
      vi.advanceTimersByTime(20);
    }
    vi.advanceTimersByTime(150);
    counters.close();
    expect(published.map(({ at }) => at - started)).toEqual([0, 100, 200, 300]);
    expect(published.at(-1)!.state.likes).toBe(12);
  });
});

for (const kind of BUS_KINDS) {
  describe(`the counters consumer on the ${kind} bus`, () => {
    let stack: OverlayStack;
    afterEach(() => stack?.close());

    it('publishes the counters of the latest session on the overlay stream, which the hub shows on host/counters', async () => {
      stack = await openOverlayStack(kind, 'counters', { countersIntervalMs: 100 });
      const counters = await TestSocket.overlay(stack.server, 'host/counters');
      await counters.waitFor((s) => s.ofType('reset').length === 1, 'the reset');
      expect(counters.ofType('reset')[0]).toEqual({
        type: 'reset',
        channel: COUNTERS_CHANNEL,
        seq: 1,
        state: { sessionId: null, likes: 0, viewers: null, follows: 0, shares: 0, coins: 0 },
      });

      const session = newSessionId();
      await stack.testBus.bus.publishMany('events', [
        testEvent('CONNECTED', session, {}),
        testEvent('LIKE', session, { likeCount: 10, totalLikeCount: 10 }),
        testEvent('JOIN', session, { viewerCount: 7 }),
        testEvent('FOLLOW', session, { displayType: FOLLOW_DISPLAY_TYPE }),
        testEvent('SHARE', session, { displayType: SHARE_DISPLAY_TYPE }),
        testEvent('GIFT', session, { giftId: 5655, giftName: 'Rose', giftCount: 1, coins: 1 }),
        testEvent('GIFT', session, { giftId: 5827, giftName: 'Ice Cream', giftCount: 1, coins: 1, isGiftStreak: true, streakActive: true, groupId: '1700000000001' }),
        testEvent('GIFT', session, { giftId: 5827, giftName: 'Ice Cream', giftCount: 4, coins: 4, isGiftStreak: true, streakActive: true, groupId: '1700000000001' }),
        testEvent('LIKE', session, { likeCount: 30, totalLikeCount: 40 }),
      ]);
      // The streak never ended: its coins count as it ran.
      const expected = { sessionId: session, likes: 40, viewers: 7, follows: 1, shares: 1, coins: 5 };
      await counters.waitFor((s) => JSON.stringify(s.ofType('state').at(-1)?.data) === JSON.stringify(expected), 'the tallied counters');
      expect(stack.counters.state).toEqual(expected);

      // A new session starts over; late events of the one before are ignored.
      const next = newSessionId();
      await stack.testBus.bus.publishMany('events', [
        testEvent('CONNECTED', next, {}),
        testEvent('FOLLOW', session, { displayType: FOLLOW_DISPLAY_TYPE }),
        testEvent('SHARE', next, { displayType: SHARE_DISPLAY_TYPE }),
      ]);
      const reset = { sessionId: next, likes: 0, viewers: null, follows: 0, shares: 1, coins: 0 };
      await counters.waitFor((s) => JSON.stringify(s.ofType('state').at(-1)?.data) === JSON.stringify(reset), 'the counters of the next session');
      const states = counters.ofType('state');
      expect(states.every((frame) => frame.pluginId === 'host')).toBe(true);
      expect(counters.seqs(COUNTERS_CHANNEL)).toEqual(states.map((_, index) => index + 2));
      await counters.close();
    });

    it('shows only the counters its own host sealed: not another host’s, not a forged or altered seal', async () => {
      stack = await openOverlayStack(kind, 'sealed', { countersIntervalMs: 100 });
      const { hub, testBus } = stack;
      const counters = await TestSocket.overlay(stack.server, 'host/counters');
      await counters.waitFor((s) => s.ofType('reset').length === 1, 'the reset');
      const forged = { likes: 999_999_999 };
      const otherHost = new OverlayHub({ bus: testBus.bus, log: silentLog, consumer: `test-other-${process.pid}` });
      const ours = hub.sealHostEntry(overlayMessage('host', 'counters', 'state', { likes: 1 }));
      const rejected = hub.entriesRejected;
      await testBus.bus.publishMany('overlay', [
        otherHost.sealHostEntry(overlayMessage('host', 'counters', 'state', forged)),
        { ...overlayMessage('host', 'counters', 'state', forged), seal: 'ab'.repeat(32) },
        { ...ours, data: forged },
      ]);
      await waitFor(() => hub.entriesRejected === rejected + 3, 'three refused entries');
      const session = newSessionId();
      await testBus.bus.publish('events', testEvent('FOLLOW', session, { displayType: FOLLOW_DISPLAY_TYPE }));
      await counters.waitFor((s) => s.ofType('state').some((frame) => frame.data.sessionId === session), 'the real counters');
      expect(counters.frames.some((frame) => JSON.stringify(frame).includes('999999999'))).toBe(false);
      await counters.close();
    });
  });
}
