/**
 * Per-token limits on WebSocket connections (host/src/overlay-hub/routes.ts): a token — overlay,
 * admin, API, or a settings session — holds at most so many overlay sockets and so many
 * live-feed sockets; one more handshake is refused with 429 `SOCKET_LIMIT`, and a closed
 * socket gives its slot back.
 */
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OverlayHub } from '../../src/overlay-hub/hub.ts';
import { LiveFeed } from '../../src/overlay-hub/live-feed.ts';
import { CLIENT_FRAME_MAX_BYTES } from '../../src/overlay-hub/protocol.ts';
import { overlaySocketRoutes, SOCKET_LIMITS, type SocketLimits } from '../../src/overlay-hub/routes.ts';
import { authentication } from '../../src/api/auth.ts';
import { openTestBus, refusal, silentLog, startServer, testAuthenticate, TestSocket, waitFor, type TestBus, type TestServer, firstPartyWidgets } from '../support/overlay-stack.ts';

async function serverWithLimits(hub: OverlayHub, feed: LiveFeed, limits: Partial<SocketLimits>): Promise<TestServer> {
  const app = Fastify({ logger: false });
  await app.register(websocket, { options: { maxPayload: CLIENT_FRAME_MAX_BYTES } });
  await app.register(authentication, { tokens: { authenticate: testAuthenticate } });
  await app.register(overlaySocketRoutes, { hub, feed, limits, widgets: await firstPartyWidgets() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { app, url: `ws://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** Opens a socket, or answers the refused handshake's status and body. */
async function attempt(url: string): Promise<TestSocket | { status: number; body: unknown }> {
  try {
    return await TestSocket.open(url);
  } catch {
    return refusal(url);
  }
}

describe('WebSocket connections per token', () => {
  let testBus: TestBus;
  let hub: OverlayHub;
  let feed: LiveFeed;
  let limited: TestServer;
  let defaults: TestServer;

  beforeAll(async () => {
    testBus = await openTestBus('memory');
    hub = new OverlayHub({ bus: testBus.bus, log: silentLog, consumer: `test-limits-${process.pid}`, blockMs: 50 });
    feed = new LiveFeed({ bus: testBus.bus, log: silentLog, consumer: `test-limits-${process.pid}`, blockMs: 50 });
    await Promise.all([hub.start(), feed.start()]);
    limited = await serverWithLimits(hub, feed, { overlayPerToken: 3, liveFeedPerToken: 2 });
    defaults = await startServer(hub, feed);
  });

  afterAll(async () => {
    await Promise.all([feed?.close(), hub?.close()]);
    await limited?.close();
    await defaults?.close();
    await testBus?.dispose();
  });

  it('defaults to 20 overlay sockets and 10 live-feed sockets per token', () => {
    expect(SOCKET_LIMITS).toEqual({ overlayPerToken: 20, liveFeedPerToken: 10 });
  });

  it('refuses one overlay socket more than the limit with 429 SOCKET_LIMIT, for that token only, until one closes', async () => {
    const url = `${limited.url}/ws/overlay/alerts/alerts?token=overlay-alerts%2Falerts`;
    const open = await Promise.all([1, 2, 3].map(() => TestSocket.open(url)));
    expect(await refusal(url)).toEqual({ status: 429, body: { code: 'SOCKET_LIMIT', message: expect.stringContaining('3') } });
    // Other tokens have slots of their own, on the same widget too.
    const admin = await TestSocket.open(`${limited.url}/ws/overlay/alerts/alerts?token=admin`);
    const chat = await TestSocket.open(`${limited.url}/ws/overlay/chat/chat?token=overlay-chat%2Fchat`);
    await open[0]!.close();
    await waitFor(() => hub.connectedClients['alerts/alerts'] === 3, 'the closed socket to be forgotten');
    const again = await attempt(url);
    expect(again).toBeInstanceOf(TestSocket);
    await Promise.all([...open.slice(1), admin, chat, again as TestSocket].map((socket) => socket.close()));
  });

  it('refuses one live-feed socket more than the limit, and counts it apart from the overlay sockets', async () => {
    const url = `${limited.url}/ws/live?token=api`;
    const overlays = await Promise.all([1, 2, 3].map(() => TestSocket.open(`${limited.url}/ws/overlay/goals/goals?token=api`)));
    const open = await Promise.all([1, 2].map(() => TestSocket.open(url)));
    expect(await refusal(url)).toMatchObject({ status: 429, body: { code: 'SOCKET_LIMIT' } });
    const admin = await attempt(`${limited.url}/ws/live?token=admin`);
    expect(admin).toBeInstanceOf(TestSocket);
    await Promise.all([...overlays, ...open, admin as TestSocket].map((socket) => socket.close()));
    await waitFor(() => feed.connectedClients === 0 && hub.connectedClients['goals/goals'] === 0, 'the host to see the sockets closed');
  });

  it('lets no more handshakes through than the limit when they race each other', async () => {
    const url = `${limited.url}/ws/overlay/leaderboard/leaderboard?token=overlay-leaderboard%2Fleaderboard`;
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => attempt(url)));
    const opened = outcomes.filter((outcome): outcome is TestSocket => outcome instanceof TestSocket);
    expect(opened).toHaveLength(3);
    expect(outcomes.filter((outcome) => !(outcome instanceof TestSocket))).toEqual(Array(9).fill({ status: 429, body: { code: 'SOCKET_LIMIT', message: expect.any(String) } }));
    await Promise.all(opened.map((socket) => socket.close()));
  });

  it('gives slots back when sockets close, however many come and go', async () => {
    const url = `${limited.url}/ws/overlay/host/counters?token=overlay-host%2Fcounters`;
    for (let round = 0; round < 4; round += 1) {
      const sockets = await Promise.all([1, 2, 3].map(() => TestSocket.open(url)));
      await Promise.all(sockets.map((socket) => socket.close()));
      // The host sees the closes a moment after the clients do.
      await waitFor(() => hub.connectedClients['host/counters'] === 0, 'the host to see the sockets closed');
    }
    // Refused handshakes hold nothing either.
    for (let i = 0; i < 3; i += 1) expect((await refusal(`${limited.url}/ws/overlay/alerts/alerts?token=overlay-host%2Fcounters`)).status).toBe(403);
    const last = await Promise.all([1, 2, 3].map(() => attempt(url)));
    expect(last.every((outcome) => outcome instanceof TestSocket)).toBe(true);
    await Promise.all((last as TestSocket[]).map((socket) => socket.close()));
  });

  it('applies the default limit of 20 overlay sockets per token', async () => {
    const url = `${defaults.url}/ws/overlay/chat/chat?token=overlay-chat%2Fchat`;
    const open = await Promise.all(Array.from({ length: SOCKET_LIMITS.overlayPerToken }, () => TestSocket.open(url)));
    expect(await refusal(url)).toMatchObject({ status: 429, body: { code: 'SOCKET_LIMIT' } });
    await Promise.all(open.map((socket) => socket.close()));
  });

  it('answers a plain request to a socket endpoint with 426 and a JSON code, not an empty 404', async () => {
    for (const path of ['/ws/live?token=admin', '/ws/overlay/alerts/alerts?token=overlay-alerts']) {
      const response = await limited.app.inject({ method: 'GET', url: path });
      expect(response.statusCode).toBe(426);
      expect(response.json()).toEqual({ code: 'UPGRADE_REQUIRED', message: expect.any(String) });
    }
  });
});
