/**
 * The `euler` live transport: Euler Stream's managed WebSocket relay connects to TikTok for us
 * and forwards the room's messages as JSON bundles. Each message also carries its own protobuf
 * bytes, which are decoded here with the connector's v3 schema, so the normalizer sees the same
 * shapes as from the direct transport.
 */
import type { Agent } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import { decodeWebcast, roomIdOf } from '../capture.ts';
import { toJsonSafe } from '../envelope.ts';
import {
  LiveConnectError,
  rejectedBytes,
  type LiveClose,
  type LiveConnection,
  type LiveHandlers,
  type LiveMessage,
  type LiveRejection,
  type LiveTransport,
} from './transport.ts';

export const EULER_DEFAULT_URL = 'wss://ws.eulerstream.com';
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const MAX_REASON_CHARS = 200;
const CLOSE_GRACE_MS = 3_000;

export interface EulerTransportOptions {
  /** The TikTok user to follow (a leading @ is dropped). */
  user: string;
  apiKey: string;
  /** The relay's address; default wss://ws.eulerstream.com. */
  url?: string;
  /** How long to wait for the first message that names the room, ms. Default 20 000. */
  connectTimeoutMs?: number;
  /** An agent for the relay connection (an outgoing proxy). */
  agent?: Agent;
}

/** The relay's close codes, as a short text for logs and DISCONNECTED events. */
const CLOSE_TEXT: Record<number, string> = {
  1000: 'the relay closed the connection',
  1006: 'the connection to the relay was lost',
  1011: 'the relay had an internal error',
  4005: 'the stream ended',
  4006: 'no messages from TikTok for too long',
  4400: 'the relay rejected the connection options',
  4401: 'the relay rejected the API key',
  4403: 'the API key has no permission for this',
  4404: 'the user is not live',
  4429: 'too many connections for this API key',
  4500: 'TikTok closed the connection',
  4555: 'the connection reached its maximum lifetime',
  4556: 'the relay could not fetch the stream from TikTok',
  4557: 'the relay could not fetch the room info from TikTok',
};
const STREAM_END = 4005;

/** How a close before the first room message is acted on (see LiveFailureKind). */
const CONNECT_FAILURES: Record<number, Pick<LiveConnectError, 'kind' | 'code'>> = {
  4404: { kind: 'offline', code: 'USER_OFFLINE' },
  4005: { kind: 'offline', code: 'STREAM_ENDED' },
  4429: { kind: 'rate-limited', code: 'RATE_LIMITED' },
  4401: { kind: 'fatal', code: 'EULER_INVALID_AUTH' },
  4403: { kind: 'fatal', code: 'EULER_NO_PERMISSION' },
  4400: { kind: 'fatal', code: 'EULER_INVALID_OPTIONS' },
};

type DecodeResult = { ok: true; message: LiveMessage } | { ok: false; rejection: LiveRejection };

export class EulerTransport implements LiveTransport {
  readonly name = 'euler';
  readonly user: string;
  private readonly url: URL;

  constructor(private readonly options: EulerTransportOptions) {
    this.user = options.user.replace(/^@/, '');
    this.url = new URL(options.url ?? EULER_DEFAULT_URL);
    // A wrong address is the user's to fix: say so at start, not as a retried failure on every connect.
    if (!['ws:', 'wss:'].includes(this.url.protocol) || this.url.hash !== '') throw new RangeError('the Euler relay url must be a ws:// or wss:// address');
    if (options.apiKey === '') throw new RangeError('the Euler relay needs an API key');
  }

  connect(handlers: LiveHandlers, signal: AbortSignal): Promise<LiveConnection> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new LiveConnectError('transient', 'ABORTED', 'the connection attempt was aborted'));
      const socket = new WebSocket(this.relayUrl(), {
        headers: { 'x-api-key': this.options.apiKey },
        agent: this.options.agent,
      });
      let state: 'connecting' | 'open' | 'failed' = 'connecting';
      let socketError: string | undefined;
      let settleClosed!: (end: LiveClose) => void;
      const closed = new Promise<LiveClose>((settle) => (settleClosed = settle));

      const fail = (error: LiveConnectError) => {
        if (state !== 'connecting') return;
        state = 'failed';
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.terminate();
        reject(error);
      };
      const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer = setTimeout(
        () => fail(new LiveConnectError('transient', 'CONNECT_TIMEOUT', `no room message from the Euler relay within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onAbort = () => {
        if (state === 'connecting') fail(new LiveConnectError('transient', 'ABORTED', 'the connection attempt was aborted'));
        else socket.close(1000);
      };
      signal.addEventListener('abort', onAbort, { once: true });

      socket.on('unexpected-response', (_request, response) => {
        response.resume();
        fail(httpFailure(response.statusCode ?? 0, response.headers['retry-after']));
      });
      // Only the error's code, never its message: nothing here may quote the address with the key.
      socket.on('error', (error: Error & { code?: unknown }) => {
        socketError = typeof error.code === 'string' ? error.code : 'socket error';
        fail(new LiveConnectError('transient', 'EULER_SOCKET_ERROR', `the connection to the Euler relay failed (${socketError})`));
      });
      socket.on('message', (data, isBinary) => {
        if (state === 'failed') return;
        const roomId = this.receive(data, isBinary, handlers);
        if (state !== 'connecting' || roomId === undefined) return;
        state = 'open';
        clearTimeout(timer);
        resolve({
          roomId,
          closed,
          close: async () => {
            socket.close(1000);
            // ws would wait 30 s for a silent relay's close frame; a stopping host should not.
            const force = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
            await closed;
            clearTimeout(force);
          },
        });
      });
      socket.on('close', (code, reasonBytes) => {
        signal.removeEventListener('abort', onAbort);
        const reason = this.closeReason(code, reasonBytes.toString('utf8'), socketError);
        if (state === 'open') {
          settleClosed({ streamEnded: code === STREAM_END, reason: code === STREAM_END ? 'the stream ended' : reason, code });
          return;
        }
        const failure = CONNECT_FAILURES[code] ?? { kind: 'transient', code: `EULER_CLOSED_${code}` };
        fail(new LiveConnectError(failure.kind, failure.code, `Euler relay: ${reason}`));
      });
    });
  }

  private relayUrl(): URL {
    const url = new URL(this.url);
    url.searchParams.set('uniqueId', this.user);
    url.searchParams.set('apiKey', this.options.apiKey);
    url.searchParams.set('features.bundleEvents', 'true');
    url.searchParams.set('features.includeRawBytes', 'true');
    url.searchParams.set('features.rawMessages', 'false');
    return url;
  }

  /** Hands one frame's messages to `handlers`; returns the first room id among them. */
  private receive(data: RawData, isBinary: boolean, handlers: LiveHandlers): string | undefined {
    const receivedAt = new Date();
    const messages = isBinary ? undefined : bundleMessages(rawText(data));
    if (messages === undefined) {
      handlers.onRejected({ code: 'LIVE_BAD_FRAME', message: 'a relay frame that is not a JSON bundle of messages' });
      return undefined;
    }
    let roomId: string | undefined;
    for (const item of messages) {
      const result = decodeRelayMessage(item, receivedAt);
      if (!result.ok) {
        handlers.onRejected(result.rejection);
        continue;
      }
      roomId ??= roomIdOf(result.message.data);
      handlers.onMessage(result.message);
    }
    return roomId;
  }

  /** The close as one line: our text for the code, the relay's own reason, the socket error if any. */
  private closeReason(code: number, relayReason: string, socketError: string | undefined): string {
    // The relay's reason is its own text; the key is cut out in case it ever quotes it.
    const said = relayReason.split(this.options.apiKey).join('***').slice(0, MAX_REASON_CHARS);
    const details = [String(code), said, socketError].filter((part) => part !== undefined && part !== '');
    return `${CLOSE_TEXT[code] ?? 'the relay closed the connection'} (${details.join(': ')})`;
  }
}

/** The relay refused the WebSocket upgrade with an HTTP status. */
function httpFailure(status: number, retryAfter: string | undefined): LiveConnectError {
  const message = `the Euler relay refused the connection with HTTP ${status}`;
  if (status === 401) return new LiveConnectError('fatal', 'EULER_INVALID_AUTH', message);
  if (status === 403) return new LiveConnectError('fatal', 'EULER_NO_PERMISSION', message);
  if (status === 429) return new LiveConnectError('rate-limited', 'RATE_LIMITED', message, retryAfterMs(retryAfter));
  return new LiveConnectError('transient', `EULER_HTTP_${status}`, message);
}

/** A Retry-After header (seconds or an HTTP date) in ms; undefined when absent or unreadable. */
function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The messages of a bundle `{ timestamp, messages: [...] }`; undefined for anything else. */
function bundleMessages(text: string): unknown[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isRecord(value) && Array.isArray(value.messages) ? value.messages : undefined;
}

/** One relay message `{ type, data, raw? }`: decoded from its own bytes when it has them. */
function decodeRelayMessage(item: unknown, receivedAt: Date): DecodeResult {
  if (!isRecord(item) || typeof item.type !== 'string' || item.type === '')
    return { ok: false, rejection: { code: 'LIVE_BAD_FRAME', message: 'a relay message without a type' } };
  const { type, raw, data } = item;
  if (raw === undefined || raw === null) {
    if (!isRecord(data)) return { ok: false, rejection: { code: 'LIVE_BAD_FRAME', message: `a ${type} without data or bytes`, type } };
    return { ok: true, message: { type, data: toJsonSafe(data) as Record<string, unknown>, receivedAt } };
  }
  if (typeof raw !== 'string') return { ok: false, rejection: { code: 'LIVE_BAD_FRAME', message: `a ${type} whose bytes are not base64 text`, type } };
  const proto = Buffer.from(raw, 'base64');
  const decoded = decodeWebcast(type, proto);
  if (!decoded.ok)
    return { ok: false, rejection: { code: decoded.unknownType ? 'LIVE_UNKNOWN_TYPE' : 'LIVE_DECODE_FAILED', message: decoded.message, type, proto: rejectedBytes(proto) } };
  return { ok: true, message: { type, data: decoded.data, proto, receivedAt } };
}
