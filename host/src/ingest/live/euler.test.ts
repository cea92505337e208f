import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { deserializeMessage } from 'tiktok-live-connector';
import type { RawEnvelope } from '@ttlp/sdk';
import { captureLines } from '../../../test/support/captures.ts';
import { HANG_MS } from '../../../test/support/patience.ts';
import { toJsonSafe } from '../envelope.ts';
import { EulerTransport } from './euler.ts';
import { LiveProvider } from './live-provider.ts';
import { LiveConnectError, type LiveHandlers, type LiveMessage, type LiveRejection } from './transport.ts';

const API_KEY = 'euler-test-key-7c1e0b';
const USER = 'some_streamer';

interface CaptureRecord {
  type: string;
  proto: string;
}

const records: CaptureRecord[] = captureLines('jw.capture.ndjson').map((line) => {
  const { type, proto } = JSON.parse(line) as CaptureRecord;
  return { type, proto };
});
const expectedData = records.map(({ type, proto }) => toJsonSafe(deserializeMessage(type as Parameters<typeof deserializeMessage>[0], Buffer.from(proto, 'base64'))));
const ROOM_ID = '7045275306669072438';

/** Capture lines as the relay sends them with bundleEvents and includeRawBytes. */
function bundles(lines: CaptureRecord[], size = 8): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += size)
    out.push(JSON.stringify({ timestamp: Date.now(), messages: lines.slice(i, i + size).map(({ type, proto }) => ({ type, data: {}, raw: proto })) }));
  return out;
}

function play(socket: WebSocket, frames: string[], closeCode?: number): void {
  for (const frame of frames) socket.send(frame);
  if (closeCode !== undefined) socket.close(closeCode, 'closed by the stand-in');
}

interface RelayRequest {
  query: URLSearchParams;
  apiKeyHeader: string | string[] | undefined;
}

/** A local stand-in for Euler's relay; `onSocket` plays each connection's part. */
interface Relay {
  url: string;
  server: WebSocketServer;
  requests: RelayRequest[];
}

const relays: WebSocketServer[] = [];

afterEach(async () => {
  for (const server of relays.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function startRelay(
  onSocket: (socket: WebSocket, attempt: number) => void,
  refuse?: { status: number; headers?: Record<string, string> },
): Promise<Relay> {
  const requests: RelayRequest[] = [];
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (_info, accept) => (refuse ? accept(false, refuse.status, 'refused', refuse.headers) : accept(true)),
  });
  relays.push(server);
  server.on('connection', (socket, request) => {
    requests.push({ query: new URL(request.url ?? '/', 'ws://relay').searchParams, apiKeyHeader: request.headers['x-api-key'] });
    onSocket(socket, requests.length);
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}`, server, requests };
}

function recorder() {
  const messages: LiveMessage[] = [];
  const rejections: LiveRejection[] = [];
  const errors: Parameters<LiveHandlers['onError']>[0][] = [];
  const handlers: LiveHandlers = {
    onMessage: (message) => messages.push(message),
    onRejected: (rejection) => rejections.push(rejection),
    onError: (error) => errors.push(error),
  };
  return { messages, rejections, errors, handlers };
}

function transportFor(relay: Relay, options: { connectTimeoutMs?: number } = {}): EulerTransport {
  return new EulerTransport({ user: USER, apiKey: API_KEY, url: relay.url, ...options });
}

async function connectFailure(transport: EulerTransport, signal = new AbortController().signal): Promise<LiveConnectError> {
  const error: unknown = await transport.connect(recorder().handlers, signal).then(
    () => new Error('connected although the relay refused'),
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(LiveConnectError);
  const failure = error as LiveConnectError;
  // The key travels in the relay's query string; no error may carry it further.
  expect(`${failure.message} ${failure.stack} ${JSON.stringify(failure)}`).not.toContain(API_KEY);
  return failure;
}

describe('EulerTransport', () => {
  it('decodes every message of a played capture from its own bytes, and names the room', async () => {
    const relay = await startRelay((socket) => play(socket, bundles(records)));
    const { messages, rejections, handlers } = recorder();
    const connection = await transportFor(relay).connect(handlers, new AbortController().signal);
    expect(connection.roomId).toBe(ROOM_ID);
    await vi.waitFor(() => expect(messages).toHaveLength(records.length), { timeout: HANG_MS });
    expect(rejections).toEqual([]);
    expect(messages.map((m) => m.type)).toEqual(records.map((r) => r.type));
    expect(messages.map((m) => m.data)).toEqual(expectedData);
    expect(messages.map((m) => Buffer.from(m.proto!).toString('base64'))).toEqual(records.map((r) => r.proto));
    expect(messages.every((m) => m.receivedAt instanceof Date)).toBe(true);

    const [request] = relay.requests;
    expect(Object.fromEntries(request!.query)).toEqual({
      uniqueId: USER,
      apiKey: API_KEY,
      'features.bundleEvents': 'true',
      'features.includeRawBytes': 'true',
      'features.rawMessages': 'false',
    });
    expect(request!.apiKeyHeader).toBe(API_KEY);

    await connection.close();
    await expect(connection.closed).resolves.toMatchObject({ streamEnded: false, code: 1000 });
  });

  it('drops a leading @ from the user', async () => {
    const relay = await startRelay((socket) => play(socket, bundles(records)));
    const transport = new EulerTransport({ user: `@${USER}`, apiKey: API_KEY, url: relay.url });
    expect(transport.user).toBe(USER);
    const connection = await transport.connect(recorder().handlers, new AbortController().signal);
    expect(relay.requests[0]!.query.get('uniqueId')).toBe(USER);
    await connection.close();
  });

  it('reports a stream end (4005) as streamEnded, other closes as a dropped connection', async () => {
    const ended = await startRelay((socket) => play(socket, bundles(records.slice(0, 10)), 4005));
    const first = await transportFor(ended).connect(recorder().handlers, new AbortController().signal);
    await expect(first.closed).resolves.toEqual({ streamEnded: true, reason: 'the stream ended', code: 4005 });

    const dropped = await startRelay((socket) => play(socket, bundles(records.slice(0, 10)), 4500));
    const second = await transportFor(dropped).connect(recorder().handlers, new AbortController().signal);
    const end = await second.closed;
    expect(end).toMatchObject({ streamEnded: false, code: 4500 });
    expect(end.reason).toContain('TikTok closed the connection');
  });

  it.each([
    [4404, 'offline', 'USER_OFFLINE'],
    [4005, 'offline', 'STREAM_ENDED'],
    [4429, 'rate-limited', 'RATE_LIMITED'],
    [4401, 'fatal', 'EULER_INVALID_AUTH'],
    [4403, 'fatal', 'EULER_NO_PERMISSION'],
    [4400, 'fatal', 'EULER_INVALID_OPTIONS'],
    [4556, 'transient', 'EULER_CLOSED_4556'],
    [1011, 'transient', 'EULER_CLOSED_1011'],
  ])('rejects a close %i before any message as %s (%s)', async (code, kind, errorCode) => {
    const relay = await startRelay((socket) => socket.close(code, `refused, key ${API_KEY}`));
    const failure = await connectFailure(transportFor(relay));
    expect(failure).toMatchObject({ kind, code: errorCode, retryAfterMs: undefined });
    expect(failure.message).toContain(String(code));
  });

  it('rejects an upgrade refused with HTTP 429 as rate-limited, honouring retry-after', async () => {
    const relay = await startRelay(() => undefined, { status: 429, headers: { 'retry-after': '3' } });
    expect(await connectFailure(transportFor(relay))).toMatchObject({ kind: 'rate-limited', code: 'RATE_LIMITED', retryAfterMs: 3000 });
  });

  it.each([
    [401, 'fatal', 'EULER_INVALID_AUTH'],
    [403, 'fatal', 'EULER_NO_PERMISSION'],
    [502, 'transient', 'EULER_HTTP_502'],
  ])('rejects an upgrade refused with HTTP %i as %s', async (status, kind, code) => {
    const relay = await startRelay(() => undefined, { status });
    expect(await connectFailure(transportFor(relay))).toMatchObject({ kind, code });
  });

  it('rejects as transient when the relay cannot be reached', async () => {
    const relay = await startRelay(() => undefined);
    for (const server of relays.splice(0)) await new Promise((resolve) => server.close(resolve));
    expect(await connectFailure(transportFor(relay))).toMatchObject({ kind: 'transient', code: 'EULER_SOCKET_ERROR' });
  });

  it('times out when no message names the room, after handing over the ones that came', async () => {
    const [intro] = records.filter((r) => r.type === 'WebcastLiveIntroMessage');
    const relay = await startRelay((socket) => play(socket, bundles([intro!])));
    const { messages, handlers } = recorder();
    // The test's clock for the connect timeout: it passes once the intro is in, however slow the machine.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => void vi.useRealTimers());
    const failure = transportFor(relay, { connectTimeoutMs: 200 })
      .connect(handlers, new AbortController().signal)
      .catch((error: unknown) => error);
    await vi.waitFor(() => expect(messages).toHaveLength(1), { timeout: HANG_MS });
    vi.advanceTimersByTime(200);
    expect(await failure).toMatchObject({ kind: 'transient', code: 'CONNECT_TIMEOUT' });
    expect(messages.map((m) => m.type)).toEqual(['WebcastLiveIntroMessage']);
    await vi.waitFor(() => expect(relay.server.clients.size).toBe(0), { timeout: HANG_MS });
  });

  it('closes the socket and rejects when aborted while connecting', async () => {
    const relay = await startRelay(() => undefined);
    const abort = new AbortController();
    const failure = connectFailure(transportFor(relay), abort.signal);
    await vi.waitFor(() => expect(relay.server.clients.size).toBe(1), { timeout: HANG_MS });
    abort.abort();
    expect(await failure).toMatchObject({ kind: 'transient', code: 'ABORTED' });
    await vi.waitFor(() => expect(relay.server.clients.size).toBe(0), { timeout: HANG_MS });
  });

  it('rejects frames and messages it cannot read, and still delivers the others', async () => {
    const chat = { type: 'WebcastChatMessage', data: { common: { roomId: ROOM_ID }, content: 'hello', emotes: [] } };
    const relay = await startRelay((socket) => {
      socket.send('not json');
      socket.send(JSON.stringify({ hello: 1 }));
      socket.send(Buffer.from([1, 2, 3]), { binary: true });
      socket.send(
        JSON.stringify({
          timestamp: Date.now(),
          messages: [
            { type: 'WebcastChatMessage', data: {}, raw: Buffer.from([0x0a, 0x05, 0x01]).toString('base64') },
            { type: 'WebcastNoSuchMessage', data: {}, raw: 'CgA=' },
            { data: {} },
            { type: 'WebcastChatMessage', raw: 42 },
          ],
        }),
      );
      play(socket, [...bundles(records), JSON.stringify({ timestamp: Date.now(), messages: [chat] })]);
    });
    const { messages, rejections, handlers } = recorder();
    const connection = await transportFor(relay).connect(handlers, new AbortController().signal);
    await vi.waitFor(() => expect(messages).toHaveLength(records.length + 1), { timeout: HANG_MS });
    expect(rejections.map((r) => r.code)).toEqual([
      'LIVE_BAD_FRAME',
      'LIVE_BAD_FRAME',
      'LIVE_BAD_FRAME',
      'LIVE_DECODE_FAILED',
      'LIVE_UNKNOWN_TYPE',
      'LIVE_BAD_FRAME',
      'LIVE_BAD_FRAME',
    ]);
    expect(rejections[3]).toMatchObject({ type: 'WebcastChatMessage', proto: 'CgUB' });
    expect(rejections[4]).toMatchObject({ type: 'WebcastNoSuchMessage' });
    expect(messages.slice(0, -1).map((m) => m.data)).toEqual(expectedData);
    // Without bytes the relay's own decoding is taken, made JSON-safe like the rest.
    expect(messages.at(-1)).toMatchObject({ type: 'WebcastChatMessage', data: { common: { roomId: ROOM_ID }, content: 'hello' } });
    expect(messages.at(-1)!.data).not.toHaveProperty('emotes');
    expect(messages.at(-1)!.proto).toBeUndefined();
    await connection.close();
  });

  it('follows through LiveProvider: offline, then a whole stream, then its end', async () => {
    const relay = await startRelay((socket, attempt) => {
      if (attempt === 2) play(socket, bundles(records), 4005);
      else socket.close(4404, 'not live');
    });
    const notices: string[] = [];
    const provider = new LiveProvider({
      transport: transportFor(relay),
      livePollMs: 10,
      backoff: { initialMs: 5, maxMs: 20 },
      onNotice: (notice) => notices.push(notice.kind),
    });
    const abort = new AbortController();
    const iterator = provider.envelopes(abort.signal)[Symbol.asyncIterator]();
    const envelopes: RawEnvelope[] = [];
    while (envelopes.at(-1)?.type !== 'disconnected') {
      const next = await iterator.next();
      if (next.done) throw new Error('the provider stopped before the stream ended');
      envelopes.push(next.value);
    }
    expect(envelopes.map((e) => e.type)).toEqual(['connected', ...records.map((r) => r.type), 'disconnected']);
    expect(envelopes[0]!.data).toMatchObject({ roomId: ROOM_ID, provider: 'euler' });
    expect(envelopes.slice(1, -1).map((e) => e.data)).toEqual(expectedData);
    expect(envelopes.at(-1)!.data).toMatchObject({ willReconnect: false, code: 4005 });
    expect(new Set(envelopes.map((e) => e.streamId))).toEqual(new Set([ROOM_ID]));
    expect(notices.slice(0, 3)).toEqual(['offline', 'connected', 'disconnected']);

    abort.abort();
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    expect(provider.status.state).toBe('stopped');
  });
});
