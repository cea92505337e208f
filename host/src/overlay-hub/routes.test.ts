import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OverlayHub } from './hub.ts';
import type { LiveFeed } from './live-feed.ts';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyRequest } from 'fastify';
import { authentication } from '../api/auth.ts';
import { CLIENT_FRAME_MAX_BYTES } from './protocol.ts';
import { overlaySocketRoutes } from './routes.ts';
import {
  BUS_KINDS,
  openOverlayStack,
  TestSocket,
  refusal,
  testAuthenticate,
  waitFor,
  type OverlayStack,
  type TestBus,
  type TestServer,
} from '../../test/support/overlay-stack.ts';

for (const kind of BUS_KINDS) {
  describe(`overlay socket handshakes on the ${kind} bus`, () => {
    let testBus: TestBus;
    let hub: OverlayHub;
    let feed: LiveFeed;
    let server: TestServer;

    let stack: OverlayStack;

    beforeAll(async () => {
      stack = await openOverlayStack(kind, 'routes');
      ({ testBus, hub, feed, server } = stack);
    });

    afterAll(() => stack?.close());

    it('refuses an overlay socket without a principal (401), for an unknown widget (404), and with another widget’s token (403)', async () => {
      expect(await refusal(`${server.url}/ws/overlay/alerts`)).toEqual({ status: 401, body: { code: 'AUTH_REQUIRED', message: expect.any(String) } });
      expect(await refusal(`${server.url}/ws/overlay/alerts?token=wrong`)).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
      expect(await refusal(`${server.url}/ws/overlay/ticker?token=admin`)).toEqual({ status: 404, body: { code: 'OVERLAY_UNKNOWN_WIDGET', message: expect.stringContaining('ticker') } });
      expect(await refusal(`${server.url}/ws/overlay/alerts?token=overlay-chat`)).toMatchObject({ status: 403, body: { code: 'AUTH_FORBIDDEN' } });
      expect(await refusal(`${server.url}/ws/overlay/alerts?token=overlay-`)).toMatchObject({ status: 403, body: { code: 'AUTH_FORBIDDEN' } });
      expect(hub.connectedClients.alerts).toBe(0);
    });

    it('refuses the live feed without a principal (401) and to overlay tokens (403)', async () => {
      expect(await refusal(`${server.url}/ws/live`)).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
      expect(await refusal(`${server.url}/ws/live?token=overlay-alerts`)).toEqual({ status: 403, body: { code: 'AUTH_FORBIDDEN', message: expect.any(String) } });
      expect(feed.connectedClients).toBe(0);
    });

    it('opens overlay sockets to the widget’s own token and to admin and API principals, and the live feed to admin and API principals', async () => {
      const sockets = await Promise.all([
        TestSocket.open(`${server.url}/ws/overlay/goals?token=overlay-goals`),
        TestSocket.open(`${server.url}/ws/overlay/goals?token=admin`),
        TestSocket.open(`${server.url}/ws/overlay/counters?token=api`),
        TestSocket.open(`${server.url}/ws/live?token=admin`),
        TestSocket.open(`${server.url}/ws/live?token=api`),
      ]);
      await waitFor(() => hub.connectedClients.goals === 2 && hub.connectedClients.counters === 1 && feed.connectedClients === 2, 'every socket to be attached');
      await sockets[0]!.waitFor((s) => s.frames.length >= 1, 'the hello');
      expect(sockets[0]!.frames[0]).toEqual({ type: 'hello', epoch: hub.epoch, widget: 'goals', channels: ['goals/goals'] });
      await Promise.all(sockets.map((socket) => socket.close()));
    });
  });
}

describe('overlay socket handshakes and authentication', () => {
  let stack: OverlayStack;

  beforeAll(async () => {
    stack = await openOverlayStack('memory', 'routes-auth');
  });

  afterAll(() => stack?.close());

  it('read the principal the authentication plugin found: each handshake is authenticated once', async () => {
    const authenticated: string[] = [];
    const app = Fastify({ logger: false });
    await app.register(websocket, { options: { maxPayload: CLIENT_FRAME_MAX_BYTES } });
    await app.register(authentication, {
      tokens: {
        authenticate: (request: FastifyRequest) => {
          authenticated.push(request.url);
          return testAuthenticate(request);
        },
      },
    });
    await app.register(overlaySocketRoutes, { hub: stack.hub, feed: stack.feed });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = address.replace(/^http/, 'ws');
      const sockets = [await TestSocket.open(`${url}/ws/overlay/goals?token=overlay-goals`), await TestSocket.open(`${url}/ws/live?token=admin`)];
      expect(await refusal(`${url}/ws/live?token=overlay-goals`)).toMatchObject({ status: 403 });
      expect(authenticated).toEqual(['/ws/overlay/goals?token=overlay-goals', '/ws/live?token=admin', '/ws/live?token=overlay-goals']);
      await Promise.all(sockets.map((socket) => socket.close()));
    } finally {
      await app.close();
    }
  });

  it('cannot be registered without the authentication plugin', async () => {
    const app = Fastify({ logger: false });
    await app.register(websocket, { options: { maxPayload: CLIENT_FRAME_MAX_BYTES } });
    app.register(overlaySocketRoutes, { hub: stack.hub, feed: stack.feed });
    await expect(app.ready()).rejects.toThrow(/ttlp-authentication/);
    await app.close();
  });
});
