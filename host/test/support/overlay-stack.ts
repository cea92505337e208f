/**
 * What the overlay tests share: a real bus (in-process, or Redis under a unique key prefix), a
 * fastify app listening on 127.0.0.1 with the socket routes, and `ws` clients that record frames.
 * Redis being unreachable fails the tests; they are never skipped.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import WebSocket from 'ws';
import { TRIGGER_IDS, type EventType, type UnifiedEvent } from '@ttlp/sdk';
import { validateUnifiedEvent } from '@ttlp/sdk/contract';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { RedisBus } from '../../src/bus/redis-bus.ts';
import type { EventBus, OverlayMessage } from '../../src/bus/types.ts';
import { createLogger } from '../../src/log.ts';
import { computeEventId } from '../../src/normalize/event-id.ts';
import { TEST_REDIS_URL, redisAdmin } from './backends.ts';
import { waitFor } from './patience.ts';
import { OverlayHub } from '../../src/overlay-hub/hub.ts';
import { LiveFeed } from '../../src/overlay-hub/live-feed.ts';
import { startCounters, type HostCounters } from '../../src/overlay-hub/counters.ts';
import { CLIENT_FRAME_MAX_BYTES, COUNTERS_CHANNEL } from '../../src/overlay-hub/protocol.ts';
import { HOST_WIDGETS } from '../../src/overlay-hub/host-widgets.ts';
import { WidgetCatalog } from '../../src/plugin-widgets/catalog.ts';
import type { PluginManifest } from '@ttlp/sdk/manifest';
import { overlaySocketRoutes } from '../../src/overlay-hub/routes.ts';
import { authentication, type Principal } from '../../src/api/auth.ts';

export const BUS_KINDS = ['memory', 'redis'] as const;
export type BusKind = (typeof BUS_KINDS)[number];

export const silentLog = createLogger({ level: 'silent', destination: process.stderr });

export interface TestBus {
  bus: EventBus;
  dispose(): Promise<void>;
}

export async function openTestBus(kind: BusKind): Promise<TestBus> {
  if (kind === 'memory') {
    const bus = new MemoryBus();
    return { bus, dispose: () => bus.close() };
  }
  const admin = await redisAdmin();
  const prefix = `ttlp-test-${randomBytes(5).toString('hex')}:`;
  const bus = new RedisBus({ url: TEST_REDIS_URL, prefix, connectionName: `ttlp-test-overlay-${process.pid}` });
  return {
    bus,
    async dispose() {
      await bus.close();
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
        if (keys.length > 0) await admin.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await admin.quit();
    },
  };
}

/** Tokens of the tests: `admin`, `api`, and `overlay-<widget>`. */
export async function testAuthenticate(request: FastifyRequest): Promise<Principal | undefined> {
  const token = (request.query as Record<string, unknown>).token;
  if (token === 'admin' || token === 'api') return { kind: token, tokenId: `${token}-token` };
  if (typeof token === 'string' && token.startsWith('overlay-')) return { kind: 'overlay', tokenId: token, widget: token.slice('overlay-'.length) };
  return undefined;
}

export interface TestServer {
  app: FastifyInstance;
  /** `ws://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** The widgets of the host and of the first-party plugins, as on a host where all of those run. */
export async function firstPartyWidgets(): Promise<WidgetCatalog> {
  const loaded = new Map<string, { dir: string; manifest: PluginManifest }>();
  for (const id of ['alerts', 'chat', 'goals', 'leaderboard', 'rules']) {
    const dir = fileURLToPath(new URL(`../../../plugins/${id}`, import.meta.url));
    loaded.set(id, { dir, manifest: JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')).ttlp as PluginManifest });
  }
  return new WidgetCatalog({ loaded }, HOST_WIDGETS);
}

/** A fastify app on an ephemeral port with @fastify/websocket, the tests' tokens and the overlay socket routes (the first-party widgets). */
export async function startServer(hub: OverlayHub, feed: LiveFeed): Promise<TestServer> {
  const app = Fastify({ logger: false });
  await app.register(websocket, { options: { maxPayload: CLIENT_FRAME_MAX_BYTES } });
  await app.register(authentication, { tokens: { authenticate: testAuthenticate } });
  await app.register(overlaySocketRoutes, { hub, feed, widgets: await firstPartyWidgets() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the test server has no port');
  return { app, url: `ws://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** A hub, a live feed and the stream counters on a test bus, behind a test server: what one host runs. */
export interface OverlayStack {
  testBus: TestBus;
  hub: OverlayHub;
  feed: LiveFeed;
  counters: HostCounters;
  server: TestServer;
  close(): Promise<void>;
}

export async function openOverlayStack(kind: BusKind, name: string, options: { blockMs?: number; countersIntervalMs?: number } = {}): Promise<OverlayStack> {
  const testBus = await openTestBus(kind);
  const consumer = `test-${name}-${process.pid}`;
  const blockMs = options.blockMs ?? 50;
  const hub = new OverlayHub({ bus: testBus.bus, log: silentLog, consumer, blockMs });
  const feed = new LiveFeed({ bus: testBus.bus, log: silentLog, consumer, blockMs });
  await Promise.all([hub.start(), feed.start()]);
  const counters = await startCounters({ bus: testBus.bus, log: silentLog, consumer, hub, blockMs, intervalMs: options.countersIntervalMs });
  // Widgets that connect from here on get the counters' empty state, as on a host that has started.
  await waitFor(() => hub.sequence(COUNTERS_CHANNEL) === 1, 'the empty counters state');
  const server = await startServer(hub, feed);
  return {
    testBus,
    hub,
    feed,
    counters,
    server,
    async close() {
      await Promise.all([feed.close(), counters.close(), hub.close()]);
      await server.close();
      await testBus.dispose();
    },
  };
}

export { waitFor };

/** A received frame, as the tests read it field by field. */
export type Frame = Record<string, any>;

/** A `ws` client that records every frame it receives. */
export class TestSocket {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(JSON.parse(String(data)) as Frame));
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
  }

  static open(url: string): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const socket = new TestSocket(ws);
      ws.once('open', () => resolve(socket));
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) => reject(new Error(`handshake answered ${response.statusCode}`)));
    });
  }

  /** Opens `/ws/overlay/<pluginId>/<widgetId>` with the widget's token and sends `resume` at once, unless `resume` is null. */
  static async overlay(
    server: TestServer,
    widget: string,
    resume: { epoch: string | null; last: Record<string, number> } | null = { epoch: null, last: {} },
  ): Promise<TestSocket> {
    const socket = await TestSocket.open(`${server.url}/ws/overlay/${widget}?token=${encodeURIComponent(`overlay-${widget}`)}`);
    if (resume) socket.send({ type: 'resume', ...resume });
    return socket;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Frames of `type` (and of `channel`, when given). */
  ofType(type: string, channel?: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type && (channel === undefined || frame.channel === channel));
  }

  /** Sequence numbers of the message and state frames of a channel, in arrival order. */
  seqs(channel: string): number[] {
    return this.frames.filter((frame) => (frame.type === 'message' || frame.type === 'state') && frame.channel === channel).map((frame) => frame.seq as number);
  }

  waitFor(condition: (socket: TestSocket) => boolean, what: string): Promise<void> {
    return waitFor(() => condition(this), what);
  }

  close(): Promise<number> {
    this.ws.close();
    return this.closed;
  }
}

/** The status and JSON body of a refused handshake. */
export function refusal(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      reject(new Error(`the handshake to ${url} succeeded`));
    });
    ws.once('error', () => undefined);
    ws.once('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
    });
  });
}

export function overlayMessage(pluginId: string, channel: string, kind: 'message' | 'state', data: unknown, eventId?: string): OverlayMessage {
  return { pluginId, channel, kind, data, ...(eventId ? { eventId } : {}), at: new Date().toISOString() };
}

let eventCounter = 0;

/** A contract-valid event of `type` in `sessionId`. */
export function testEvent(type: EventType, sessionId: string, payload: Record<string, unknown>): UnifiedEvent {
  eventCounter += 1;
  const seqNo = String(eventCounter);
  const event = {
    schemaVersion: '1',
    eventId: computeEventId('7666766752591078691', sessionId, seqNo, type),
    eventType: type,
    triggerId: TRIGGER_IDS[type],
    streamId: '7666766752591078691',
    sessionId,
    timestamp: new Date().toISOString(),
    source: 'live',
    user: { userId: '6812345678901234567', uniqueId: 'viewer' },
    seqNo,
    payload,
  };
  const checked = validateUnifiedEvent(event);
  if (!checked.ok) throw new Error(`test event ${type} is invalid: ${checked.errors.join('; ')}`);
  return checked.value;
}

export const newSessionId = (): string => randomUUID();
