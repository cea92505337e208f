import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FOLLOW_DISPLAY_TYPE, SHARE_DISPLAY_TYPE } from '@ttlp/sdk';
import type { OverlayHub } from './hub.ts';
import { LiveFeed } from './live-feed.ts';
import { COUNTERS_CHANNEL } from './protocol.ts';
import { BUS_KINDS, openOverlayStack, silentLog, TestSocket, newSessionId, testEvent, waitFor, type OverlayStack, type TestBus, type TestServer } from '../../test/support/overlay-stack.ts';

for (const kind of BUS_KINDS) {
  describe(`live feed and stream counters on the ${kind} bus`, () => {
    let testBus: TestBus;
    let hub: OverlayHub;
    let feed: LiveFeed;
    let server: TestServer;

    let stack: OverlayStack;

    beforeAll(async () => {
      stack = await openOverlayStack(kind, 'feed', { countersIntervalMs: 100 });
      ({ testBus, hub, feed, server } = stack);
    });

    afterAll(() => stack?.close());

    it('sends every valid event to admin sockets and tallies the counters of the latest session', async () => {
      const admin = await TestSocket.open(`${server.url}/ws/live?token=admin`);
      const api = await TestSocket.open(`${server.url}/ws/live?token=api`);
      const counters = await TestSocket.overlay(server, 'counters');
      await counters.waitFor((s) => s.ofType('reset').length === 1, 'the reset');
      expect(counters.ofType('reset')[0]).toEqual({
        type: 'reset',
        channel: COUNTERS_CHANNEL,
        seq: 1,
        state: { sessionId: null, likes: 0, viewers: null, follows: 0, shares: 0, coins: 0 },
      });
      await waitFor(() => feed.connectedClients === 2, 'two admin sockets');

      const session = newSessionId();
      const events = [
        testEvent('CONNECTED', session, {}),
        testEvent('LIKE', session, { likeCount: 10, totalLikeCount: 10 }),
        testEvent('JOIN', session, { viewerCount: 7 }),
        testEvent('FOLLOW', session, { displayType: FOLLOW_DISPLAY_TYPE }),
        testEvent('SHARE', session, { displayType: SHARE_DISPLAY_TYPE }),
        testEvent('GIFT', session, { giftId: 5655, giftName: 'Rose', giftCount: 1, coins: 1 }),
        testEvent('GIFT', session, { giftId: 5827, giftName: 'Ice Cream', giftCount: 1, coins: 1, isGiftStreak: true, streakActive: true }),
        testEvent('GIFT', session, { giftId: 5827, giftName: 'Ice Cream', giftCount: 4, coins: 4, isGiftStreak: true, streakActive: true }),
        testEvent('GIFT', session, { giftId: 5827, giftName: 'Ice Cream', giftCount: 5, coins: 5, isGiftStreak: true, streakEnd: true }),
        testEvent('LIKE', session, { likeCount: 30, totalLikeCount: 40 }),
      ];
      await testBus.bus.publishMany('events', [...events.slice(0, 5), { eventType: 'CHAT', forged: true }, ...events.slice(5)]);
      for (const socket of [admin, api]) await socket.waitFor((s) => s.ofType('event').length === events.length, 'every event');
      for (const socket of [admin, api]) expect(socket.ofType('event').map((frame) => frame.event)).toEqual(events);
      const expected = { sessionId: session, likes: 40, viewers: 7, follows: 1, shares: 1, coins: 6 };
      await counters.waitFor((s) => JSON.stringify(s.ofType('state').at(-1)?.data) === JSON.stringify(expected), 'the tallied counters');
      expect(feed.countersState).toEqual(expected);
      expect(feed.eventsReceived).toBe(events.length + 1);

      // A new session starts over; late events of the one before are ignored.
      const next = newSessionId();
      await testBus.bus.publishMany('events', [
        testEvent('CONNECTED', next, {}),
        testEvent('FOLLOW', session, { displayType: FOLLOW_DISPLAY_TYPE }),
        testEvent('SHARE', next, { displayType: SHARE_DISPLAY_TYPE }),
      ]);
      const reset = { sessionId: next, likes: 0, viewers: null, follows: 0, shares: 1, coins: 0 };
      await counters.waitFor((s) => JSON.stringify(s.ofType('state').at(-1)?.data) === JSON.stringify(reset), 'the counters of the next session');
      const states = counters.ofType('state');
      for (let index = 1; index < states.length; index += 1)
        expect(Date.parse(states[index]!.at) - Date.parse(states[index - 1]!.at)).toBeGreaterThanOrEqual(99);
      expect(counters.seqs(COUNTERS_CHANNEL)).toEqual(states.map((_, index) => index + 2));
      await Promise.all([admin.close(), api.close(), counters.close()]);
    });

    it('reaches every host (each feed has a group of its own) and closes its sockets with 1001', async () => {
      const admin = await TestSocket.open(`${server.url}/ws/live?token=admin`);
      await waitFor(() => feed.connectedClients === 1, 'the admin socket');
      const other = new LiveFeed({ bus: testBus.bus, log: silentLog, consumer: `test-feed-other-${process.pid}`, blockMs: 50 });
      await other.start();
      const before = feed.eventsReceived;
      const event = testEvent('CHAT', newSessionId(), { message: 'to every host' });
      await testBus.bus.publish('events', event);
      await waitFor(() => other.eventsReceived === 1 && feed.eventsReceived === before + 1, 'both feeds to read the event');
      await admin.waitFor((s) => s.ofType('event').length === 1, 'the event');
      expect(admin.ofType('event')[0]!.event).toEqual(event);
      await other.close();
      await feed.close();
      expect(await admin.closed).toBe(1001);
      expect(feed.connectedClients).toBe(0);
    });
  });
}
