import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus } from '../bus/types.ts';
import { OverlayHub, type OverlayHubOptions } from './hub.ts';
import { LiveFeed } from './live-feed.ts';
import {
  BUS_KINDS,
  TestSocket,
  openTestBus,
  overlayMessage,
  silentLog,
  startServer,
  waitFor,
  type Frame,
  type TestBus,
  type TestServer,
} from '../../test/support/overlay-stack.ts';
import { HANG_MS } from '../../test/support/patience.ts';

const ALERTS = 'alerts/alerts';
const GOALS = 'goals/goals';

/** The frames of the alerts channel, and the hello. */
const ofAlerts = (frame: Frame): boolean => frame.channel === undefined || frame.channel === ALERTS;

/** A socket gets one reset per channel of its widget (named in its hello). */
const resets = (socket: TestSocket): number => (socket.frames[0]?.channels as string[] | undefined)?.length ?? 1;

let consumers = 0;

/** A hub, a feed and a server on `bus`; `stop` is a host going away. */
async function startHost(bus: EventBus, options: Partial<OverlayHubOptions> = {}) {
  consumers += 1;
  const consumer = `test-${process.pid}-${consumers}`;
  const hub = new OverlayHub({ bus, log: silentLog, consumer, blockMs: 50, ...options });
  const feed = new LiveFeed({ bus, log: silentLog, consumer, blockMs: 50 });
  await Promise.all([hub.start(), feed.start()]);
  const server = await startServer(hub, feed);
  return {
    hub,
    server,
    async stop() {
      await Promise.all([hub.close(), feed.close()]);
      await server.close();
    },
  };
}

for (const kind of BUS_KINDS) {
  describe(`overlay hub on the ${kind} bus`, () => {
    let testBus: TestBus;
    let bus: EventBus;
    let host: Awaited<ReturnType<typeof startHost>>;
    let hub: OverlayHub;
    let server: TestServer;
    const opened: TestSocket[] = [];

    const open = async (widget: string, resume?: Parameters<typeof TestSocket.overlay>[2]) => {
      const socket = await TestSocket.overlay(server, widget, resume);
      opened.push(socket);
      return socket;
    };
    /** Publishes and waits until the hub has numbered the channel up to the last one. */
    const publish = async (channel: string, kind: 'message' | 'state', ...data: unknown[]) => {
      const [pluginId, name] = channel.split('/') as [string, string];
      const target = (hub.sequence(channel) ?? 0) + data.length;
      await bus.publishMany('overlay', data.map((item) => overlayMessage(pluginId, name, kind, item)));
      await waitFor(() => hub.sequence(channel) === target, `${channel} at seq ${target}`);
      return target;
    };

    beforeAll(async () => {
      testBus = await openTestBus(kind);
      bus = testBus.bus;
      // Every client here resumes: only a hang reaches the resume timeout (see "overlay hosts" for one that never does).
      host = await startHost(bus, { bufferSize: 4, resumeTimeoutMs: HANG_MS });
      ({ hub, server } = host);
    });

    afterAll(async () => {
      for (const socket of opened) socket.ws.terminate();
      await host?.stop();
      await testBus?.dispose();
    });

    it('fans every message out to every client of the widget, numbered per channel', async () => {
      const alerts = await Promise.all([open('alerts/alerts'), open('alerts/alerts'), open('alerts/alerts')]);
      const goals = await open('goals/goals');
      for (const socket of [...alerts, goals]) await socket.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset');
      const base = hub.sequence(ALERTS)!;
      await bus.publishMany('overlay', [
        overlayMessage('alerts', 'alerts', 'message', { n: 1 }, 'e1'),
        overlayMessage('goals', 'goals', 'state', { goals: [] }),
        overlayMessage('alerts', 'alerts', 'message', { n: 2 }),
        overlayMessage('alerts', 'alerts', 'message', { n: 3 }),
        overlayMessage('someone', 'elsewhere', 'message', { n: 0 }),
      ]);
      for (const socket of alerts) await socket.waitFor((s) => s.seqs(ALERTS).length === 3, 'three alerts');
      await goals.waitFor((s) => s.seqs(GOALS).length === 1, 'the goals state');
      for (const socket of alerts) {
        expect(socket.frames[0]).toEqual({ type: 'hello', epoch: hub.epoch, widget: ALERTS, channels: [ALERTS] });
        expect(socket.frames[1]).toEqual({ type: 'reset', channel: ALERTS, seq: base, state: null });
        expect(socket.ofType('message')).toEqual([
          { type: 'message', channel: ALERTS, seq: base + 1, pluginId: 'alerts', data: { n: 1 }, eventId: 'e1', at: expect.any(String) },
          { type: 'message', channel: ALERTS, seq: base + 2, pluginId: 'alerts', data: { n: 2 }, at: expect.any(String) },
          { type: 'message', channel: ALERTS, seq: base + 3, pluginId: 'alerts', data: { n: 3 }, at: expect.any(String) },
        ]);
      }
      expect(goals.frames.map((frame) => frame.type)).toEqual(['hello', 'reset', 'state']);
      expect(goals.ofType('state')[0]).toMatchObject({ channel: GOALS, seq: hub.sequence(GOALS), pluginId: 'goals', data: { goals: [] } });
      expect(hub.connectedClients).toMatchObject({ [ALERTS]: 3, [GOALS]: 1 });
      // Kept for a widget of that plugin that connects later; sent to none of these.
      expect(hub.sequence('someone/elsewhere')).toBe(1);
      await Promise.all([...alerts, goals].map((socket) => socket.close()));
      await waitFor(() => hub.connectedClients[ALERTS] === 0 && hub.connectedClients[GOALS] === 0, 'the sockets to be forgotten');
    });

    it('gives a new client the last state in its reset', async () => {
      const seq = await publish(GOALS, 'state', { goals: [{ id: 'likes', progress: 1 }] }, { goals: [{ id: 'likes', progress: 2 }] });
      const goals = await open('goals/goals');
      await goals.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset');
      expect(goals.ofType('reset')[0]).toEqual({ type: 'reset', channel: GOALS, seq, state: { goals: [{ id: 'likes', progress: 2 }] } });
      await goals.close();
    });

    it('resumes after a disconnect with exactly the frames missed, then live frames', async () => {
      const first = await open('alerts/alerts');
      await first.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset');
      const seen = await publish(ALERTS, 'message', { n: 'a' });
      await first.waitFor((s) => s.seqs(ALERTS).includes(seen), 'the first message');
      await first.close();
      await publish(ALERTS, 'message', { n: 'b' });
      await publish(ALERTS, 'state', { v: 1 }, { v: 2 });
      const last = await publish(ALERTS, 'message', { n: 'c' });

      const again = await open('alerts/alerts', { epoch: hub.epoch, last: { [ALERTS]: seen } });
      await again.waitFor((s) => s.seqs(ALERTS).includes(last), 'the catch-up');
      const live = await publish(ALERTS, 'message', { n: 'd' });
      await again.waitFor((s) => s.seqs(ALERTS).includes(live), 'the live message');
      // The superseded state (v: 1) is not replayed; everything else is, once, in order.
      expect(again.frames.filter(ofAlerts).map((frame) => [frame.type, frame.seq, frame.data])).toEqual([
        ['hello', undefined, undefined],
        ['message', seen + 1, { n: 'b' }],
        ['state', seen + 3, { v: 2 }],
        ['message', seen + 4, { n: 'c' }],
        ['message', live, { n: 'd' }],
      ]);
      await again.close();
    });

    it('queues live frames that arrive before the resume and sends them after the catch-up', async () => {
      const seen = await publish(ALERTS, 'message', { n: 1 });
      await publish(ALERTS, 'message', { n: 2 });
      const quiet = await open('alerts/alerts', null);
      await quiet.waitFor((s) => s.ofType('hello').length === 1, 'the hello');
      const queued = await publish(ALERTS, 'message', { n: 3 }, { n: 4 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(quiet.frames).toHaveLength(1);
      quiet.send({ type: 'resume', epoch: hub.epoch, last: { [ALERTS]: seen } });
      await quiet.waitFor((s) => s.seqs(ALERTS).includes(queued), 'catch-up and queue');
      const live = await publish(ALERTS, 'message', { n: 5 });
      await quiet.waitFor((s) => s.seqs(ALERTS).includes(live), 'the live message');
      expect(quiet.seqs(ALERTS)).toEqual([seen + 1, seen + 2, seen + 3, live]);
      expect(quiet.ofType('message').map((frame) => frame.data.n)).toEqual([2, 3, 4, 5]);
      await quiet.close();
    });

    it('resets a client too far behind the buffer, with the state, and a client of another epoch', async () => {
      await publish(ALERTS, 'state', { v: 'kept' });
      const behind = await publish(ALERTS, 'message', { n: 0 });
      const current = await publish(ALERTS, 'message', ...[1, 2, 3, 4, 5].map((n) => ({ n })));
      const late = await open('alerts/alerts', { epoch: hub.epoch, last: { [ALERTS]: behind - 1 } });
      await late.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset');
      expect(late.frames.slice(1).filter(ofAlerts)).toEqual([{ type: 'reset', channel: ALERTS, seq: current, state: { v: 'kept' } }]);
      const other = await open('alerts/alerts', { epoch: 'another-epoch', last: { [ALERTS]: current } });
      await other.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset');
      expect(other.frames.slice(1).filter(ofAlerts)).toEqual([{ type: 'reset', channel: ALERTS, seq: current, state: { v: 'kept' } }]);
      const live = await publish(ALERTS, 'message', { n: 6 });
      for (const socket of [late, other]) await socket.waitFor((s) => s.seqs(ALERTS).includes(live), 'the live message');
      await Promise.all([late.close(), other.close()]);
    });

    it('ignores malformed client frames and closes a client whose frame is over the size limit', async () => {
      const client = await open('alerts/alerts', null);
      client.send('not json');
      client.send({ type: 'resume', epoch: 5, last: [] });
      client.send({ type: 'resume', epoch: null, last: { [ALERTS]: -1 } });
      client.send({ type: 'subscribe', channel: 'chat/chat' });
      client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      client.send({ type: 'resume', epoch: null, last: {} });
      await client.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset');
      const big = await open('alerts/alerts');
      big.send('x'.repeat(20 * 1024));
      expect(await big.closed).toBe(1009);
      const live = await publish(ALERTS, 'message', { n: 'after' });
      await client.waitFor((s) => s.seqs(ALERTS).includes(live), 'the live message');
      await client.close();
    });
  });

  describe(`overlay hosts on the ${kind} bus`, () => {
    let testBus: TestBus;

    beforeAll(async () => {
      testBus = await openTestBus(kind);
    });

    afterAll(async () => {
      await testBus?.dispose();
    });

    it('sends every overlay message to the clients of every host (each hub has a group of its own)', async () => {
      const { bus } = testBus;
      const hosts = await Promise.all([startHost(bus), startHost(bus)]);
      const clients = await Promise.all(hosts.map((host) => TestSocket.overlay(host.server, 'chat/chat')));
      for (const client of clients) await client.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset');
      await bus.publishMany('overlay', [1, 2, 3].map((n) => overlayMessage('chat', 'chat', 'message', { n })));
      for (const client of clients) {
        await client.waitFor((s) => s.seqs('chat/chat').length === 3, 'three chat messages');
        expect(client.ofType('message').map((frame) => frame.data.n)).toEqual([1, 2, 3]);
      }
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all(hosts.map((host) => host.stop()));
    });

    it('resets clients of the previous epoch after a restart, and sends what comes after exactly once', async () => {
      const { bus } = testBus;
      const before = await startHost(bus);
      const client = await TestSocket.overlay(before.server, 'alerts/alerts');
      await bus.publish('overlay', overlayMessage('alerts', 'alerts', 'message', { n: 'old' }));
      await client.waitFor((s) => s.seqs(ALERTS).length === 1, 'the first message');
      const epoch = before.hub.epoch;
      await before.stop();
      expect(await client.closed).toBe(1001);

      const after = await startHost(bus);
      expect(after.hub.epoch).not.toBe(epoch);
      const again = await TestSocket.overlay(after.server, 'alerts/alerts', { epoch, last: { [ALERTS]: 1 } });
      await again.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset');
      await bus.publish('overlay', overlayMessage('alerts', 'alerts', 'message', { n: 'new' }));
      await bus.publish('overlay', overlayMessage('alerts', 'alerts', 'message', { n: 'marker' }));
      await again.waitFor((s) => s.seqs(ALERTS).length === 2, 'the new messages');
      expect(again.frames.filter(ofAlerts).map((frame) => [frame.type, frame.seq, frame.data?.n])).toEqual([
        ['hello', undefined, undefined],
        ['reset', 0, undefined],
        ['message', 1, 'new'],
        ['message', 2, 'marker'],
      ]);
      expect(again.frames[0]).toMatchObject({ epoch: after.hub.epoch });
      await again.close();
      await after.stop();
    });

    it('keeps clients that read through a burst far larger than the send limit', async () => {
      const { bus } = testBus;
      const host = await startHost(bus);
      const readers = await Promise.all([TestSocket.overlay(host.server, 'alerts/alerts'), TestSocket.overlay(host.server, 'alerts/alerts')]);
      for (const reader of readers) await reader.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset');
      const filler = 'x'.repeat(32 * 1024);
      await bus.publishMany('overlay', Array.from({ length: 200 }, (_, n) => overlayMessage('alerts', 'alerts', 'message', { n, filler })));
      for (const reader of readers) await reader.waitFor((s) => s.seqs(ALERTS).length === 200, 'the whole burst');
      expect(host.hub.slowClientsClosed).toBe(0);
      await Promise.all(readers.map((reader) => reader.close()));
      await host.stop();
    });

    it('resets a client that never resumes once the resume timeout passes, and ignores its resume after that', async () => {
      const { bus } = testBus;
      const host = await startHost(bus, { resumeTimeoutMs: 50 });
      await bus.publishMany('overlay', [overlayMessage('alerts', 'alerts', 'state', { v: 'kept' }), overlayMessage('alerts', 'alerts', 'message', { n: 1 })]);
      await waitFor(() => host.hub.sequence(ALERTS) === 2, 'the hub to number both');
      const silent = await TestSocket.overlay(host.server, 'alerts/alerts', null);
      // However long the machine takes to get there.
      await silent.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset after the resume timeout');
      expect(silent.ofType('reset', ALERTS)).toEqual([{ type: 'reset', channel: ALERTS, seq: 2, state: { v: 'kept' } }]);
      silent.send({ type: 'resume', epoch: host.hub.epoch, last: { [ALERTS]: 0 } });
      await bus.publish('overlay', overlayMessage('alerts', 'alerts', 'message', { n: 2 }));
      await silent.waitFor((s) => s.seqs(ALERTS).includes(3), 'the live message');
      // The socket's frames are handled in order: once the oversized one closed it, the late resume was handled too.
      silent.send('x'.repeat(20 * 1024));
      expect(await silent.closed).toBe(1009);
      expect(silent.frames.filter(ofAlerts).map((frame) => [frame.type, frame.seq])).toEqual([
        ['hello', undefined],
        ['reset', 2],
        ['message', 3],
      ]);
      await host.stop();
    });

    it('pings every client, and drops one that no longer answers WebSocket pings', async () => {
      const { bus } = testBus;
      const host = await startHost(bus, { pingIntervalMs: 100 });
      const alive = await TestSocket.overlay(host.server, 'leaderboard/leaderboard');
      const dead = await TestSocket.overlay(host.server, 'leaderboard/leaderboard');
      await dead.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset');
      dead.ws.pause();
      await waitFor(() => host.hub.connectedClients['leaderboard/leaderboard'] === 1, 'the dead client to be dropped');
      await alive.waitFor((s) => s.ofType('ping').length >= 3, 'three pings');
      expect(alive.ofType('ping')[0]).toEqual({ type: 'ping' });
      dead.ws.terminate();
      await alive.close();
      await host.stop();
    });

    it('closes a client that does not read with 4008 while the others get every frame', async () => {
      const { bus } = testBus;
      const host = await startHost(bus, { maxBufferedBytes: 64 * 1024, bufferSize: 10 });
      const fast = await TestSocket.overlay(host.server, 'alerts/alerts');
      const slow = await TestSocket.overlay(host.server, 'alerts/alerts');
      await slow.waitFor((s) => s.ofType('reset').length === resets(s), 'the reset');
      // One frame larger than the whole limit still reaches clients that have nothing queued.
      await bus.publish('overlay', overlayMessage('alerts', 'alerts', 'message', { n: 0, filler: 'y'.repeat(100 * 1024) }));
      for (const client of [fast, slow]) await client.waitFor((s) => s.seqs(ALERTS).length === 1, 'the large frame');
      expect(host.hub.slowClientsClosed).toBe(0);
      slow.ws.pause();
      const filler = 'x'.repeat(32 * 1024);
      let published = 1;
      while (host.hub.slowClientsClosed === 0) {
        if (published >= 2000) throw new Error('the slow client was never closed');
        await bus.publishMany('overlay', Array.from({ length: 20 }, (_, index) => overlayMessage('alerts', 'alerts', 'message', { n: published + index, filler })));
        published += 20;
        await waitFor(() => host.hub.sequence(ALERTS) === published, 'the hub to take the batch');
      }
      slow.ws.resume();
      expect(await slow.closed).toBe(4008);
      await bus.publish('overlay', overlayMessage('alerts', 'alerts', 'message', { n: published, filler }));
      published += 1;
      await fast.waitFor((s) => s.seqs(ALERTS).length === published, `all ${published} messages`);
      expect(fast.seqs(ALERTS)).toEqual(Array.from({ length: published }, (_, index) => index + 1));
      expect(host.hub.slowClientsClosed).toBe(1);
      expect(host.hub.connectedClients[ALERTS]).toBe(1);
      expect(fast.closeCode).toBeUndefined();
      await fast.close();
      await host.stop();
    });
  });
}
