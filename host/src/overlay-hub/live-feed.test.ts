import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FOLLOW_DISPLAY_TYPE, type UnifiedEvent } from '@ttlp/sdk';
import { LiveFeed } from './live-feed.ts';
import { BUS_KINDS, openOverlayStack, silentLog, TestSocket, newSessionId, testEvent, waitFor, type OverlayStack, type TestBus, type TestServer } from '../../test/support/overlay-stack.ts';

for (const kind of BUS_KINDS) {
  describe(`live feed on the ${kind} bus`, () => {
    let testBus: TestBus;
    let feed: LiveFeed;
    let server: TestServer;

    let stack: OverlayStack;

    beforeAll(async () => {
      stack = await openOverlayStack(kind, 'feed');
      ({ testBus, feed, server } = stack);
    });

    afterAll(() => stack?.close());

    it('sends every valid event to admin sockets', async () => {
      const admin = await TestSocket.open(`${server.url}/ws/live?token=admin`);
      const api = await TestSocket.open(`${server.url}/ws/live?token=api`);
      await waitFor(() => feed.connectedClients === 2, 'two admin sockets');

      const session = newSessionId();
      const events = [
        testEvent('CONNECTED', session, {}),
        testEvent('LIKE', session, { likeCount: 10, totalLikeCount: 10 }),
        testEvent('FOLLOW', session, { displayType: FOLLOW_DISPLAY_TYPE }),
        testEvent('GIFT', session, { giftId: 5655, giftName: 'Rose', giftCount: 1, coins: 1 }),
      ];
      const received = feed.eventsReceived;
      await testBus.bus.publishMany('events', [...events.slice(0, 2), { eventType: 'CHAT', forged: true } as unknown as UnifiedEvent, ...events.slice(2)]);
      for (const socket of [admin, api]) await socket.waitFor((s) => s.ofType('event').length === events.length, 'every event');
      for (const socket of [admin, api]) expect(socket.ofType('event').map((frame) => frame.event)).toEqual(events);
      expect(feed.eventsReceived - received).toBe(events.length);
      await Promise.all([admin.close(), api.close()]);
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
