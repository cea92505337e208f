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
  firstPartyWidgets,
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
      expect(await refusal(`${server.url}/ws/overlay/alerts/alerts`)).toEqual({ status: 401, body: { code: 'AUTH_REQUIRED', message: expect.any(String) } });
      expect(await refusal(`${server.url}/ws/overlay/alerts/alerts?token=wrong`)).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
      expect(await refusal(`${server.url}/ws/overlay/ticker/main?token=admin`)).toEqual({ status: 404, body: { code: 'OVERLAY_UNKNOWN_WIDGET', message: expect.stringContaining('ticker/main') } });
      expect(await refusal(`${server.url}/ws/overlay/ticker?token=admin`)).toEqual({ status: 404, body: { code: 'OVERLAY_UNKNOWN_WIDGET', message: expect.stringContaining('ticker') } });
      expect(await refusal(`${server.url}/ws/overlay/alerts/alerts?token=overlay-chat%2Fchat`)).toMatchObject({ status: 403, body: { code: 'AUTH_FORBIDDEN' } });
      expect(await refusal(`${server.url}/ws/overlay/alerts/alerts?token=overlay-`)).toMatchObject({ status: 403, body: { code: 'AUTH_FORBIDDEN' } });
      // A widget of one plugin never opens with a token of another plugin's widget, even by its short name.
      expect(await refusal(`${server.url}/ws/overlay/alerts?token=overlay-rules%2Fmessages`)).toMatchObject({ status: 403, body: { code: 'AUTH_FORBIDDEN' } });
      expect(hub.connectedClients['alerts/alerts'] ?? 0).toBe(0);
    });

    it('refuses the live feed without a principal (401) and to overlay tokens (403)', async () => {
      expect(await refusal(`${server.url}/ws/live`)).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
      expect(await refusal(`${server.url}/ws/live?token=overlay-alerts`)).toEqual({ status: 403, body: { code: 'AUTH_FORBIDDEN', message: expect.any(String) } });
      expect(feed.connectedClients).toBe(0);
    });

    it('opens overlay sockets to the widget’s own token and to admin and API principals, and the live feed to admin and API principals', async () => {
      const sockets = await Promise.all([
        TestSocket.open(`${server.url}/ws/overlay/goals/goals?token=overlay-goals%2Fgoals`),
        TestSocket.open(`${server.url}/ws/overlay/goals/goals?token=admin`),
        TestSocket.open(`${server.url}/ws/overlay/host/counters?token=api`),
        TestSocket.open(`${server.url}/ws/live?token=admin`),
        TestSocket.open(`${server.url}/ws/live?token=api`),
      ]);
      await waitFor(() => hub.connectedClients['goals/goals'] === 2 && hub.connectedClients['host/counters'] === 1 && feed.connectedClients === 2, 'every socket to be attached');
      await sockets[0]!.waitFor((s) => s.frames.length >= 1, 'the hello');
      expect(sockets[0]!.frames[0]).toEqual({ type: 'hello', epoch: hub.epoch, widget: 'goals/goals', channels: ['goals/goals'] });
      await Promise.all(sockets.map((socket) => socket.close()));
    });

    it('opens a widget by the one-segment name it had before plugins declared widgets, for pages open since then', async () => {
      const sockets = await Promise.all([
        TestSocket.open(`${server.url}/ws/overlay/alerts?token=overlay-alerts%2Falerts`),
        TestSocket.open(`${server.url}/ws/overlay/counters?token=overlay-host%2Fcounters`),
      ]);
      for (const socket of sockets) await socket.waitFor((s) => s.frames.length >= 1, 'the hello');
      expect(sockets.map((socket) => socket.frames[0])).toEqual([
        { type: 'hello', epoch: hub.epoch, widget: 'alerts/alerts', channels: ['alerts/alerts'] },
        { type: 'hello', epoch: hub.epoch, widget: 'host/counters', channels: ['host/counters'] },
      ]);
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
    await app.register(overlaySocketRoutes, { hub: stack.hub, feed: stack.feed, widgets: await firstPartyWidgets() });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = address.replace(/^http/, 'ws');
      const sockets = [await TestSocket.open(`${url}/ws/overlay/goals/goals?token=overlay-goals%2Fgoals`), await TestSocket.open(`${url}/ws/live?token=admin`)];
      expect(await refusal(`${url}/ws/live?token=overlay-goals`)).toMatchObject({ status: 403 });
      expect(authenticated).toEqual(['/ws/overlay/goals/goals?token=overlay-goals%2Fgoals', '/ws/live?token=admin', '/ws/live?token=overlay-goals']);
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
