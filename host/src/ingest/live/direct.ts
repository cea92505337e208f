/**
 * The `direct` transport: tiktok-live-connector 2.x connects to TikTok itself (room page,
 * room info, Euler's sign server for the WebSocket URL, then TikTok's webcast WebSocket).
 * Only the connector's own options are used — no patched internals (D-033):
 * - `webConfigOverrides` points the web and webcast hosts at `tiktokUrl` (a fake or a mirror);
 * - a loopback `tiktokUrl` is reached through a non-loopback alias resolved by
 *   `webClientOptions.dnsLookup`, because the connector asks loopback hosts over https;
 * - the sign server client is built here (`eulerApiInstance`), so its base URL and key are
 *   this connection's and not the process-global SignConfig.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { Agent } from 'node:http';
import EulerStreamApiClient from 'tiktok-live-api-sdk';
import {
  AuthenticatedWebSocketConnectionError,
  InvalidUniqueIdError,
  PremiumFeatureError,
  SignatureRateLimitError,
  TikTokLiveConnection,
  UserOfflineError,
  VERSION,
} from 'tiktok-live-connector';
import { errorSummary } from '../../error-summary.ts';
import { maskSecrets } from '../../log.ts';
import { toJsonSafe } from '../envelope.ts';
import { LiveConnectError, rejectedBytes, type LiveClose, type LiveConnection, type LiveHandlers, type LiveTransport } from './transport.ts';

export const DEFAULT_SIGN_API_URL = 'https://api.eulerstream.com';

export interface DirectTransportOptions {
  user: string;
  /**
   * Base URL of TikTok's web and webcast hosts, for a fake or a mirror (http only: the
   * connector picks the scheme itself). Unless `signApiUrl` is given the sign server is
   * asked there too.
   */
  tiktokUrl?: string;
  /** Euler Stream's sign server. Default SIGN_API_URL's value, else Euler's public one. */
  signApiUrl?: string;
  /** Euler Stream API key (EULER_API_KEY). */
  signApiKey?: string;
  /** A logged-in TikTok session (cookie `sessionid`) and its data centre (`tt-target-idc`). */
  tiktokSession?: { sessionId: string; ttTargetIdc: string };
  /** Proxy agent for every request and the WebSocket. */
  agent?: Agent;
}

/** Host name that stands for a loopback `tiktokUrl` (see the module comment); never resolved by DNS. */
export const LOOPBACK_ALIAS = 'fake-tiktok.ttlp.invalid';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A dns.lookup that answers the loopback alias with `address` and asks DNS for everything else. */
function aliasLookup(address: string) {
  const family = isIP(address);
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    if (hostname !== LOOPBACK_ALIAS) {
      dnsLookup(hostname, options, callback as (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family: number) => void);
      return;
    }
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** The address a loopback host name stands for (what the alias resolves to); undefined for other hosts. */
function loopbackAddress(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return '127.0.0.1';
  return bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.')) ? bare : undefined;
}

/** Checks a `--tiktok-url` value; the message says what is wrong. */
export function checkTiktokUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RangeError(`${value} is not a URL`);
  }
  if (url.protocol !== 'http:') throw new RangeError('the TikTok URL must be http://… (the connector chooses the scheme by host; a fake or mirror serves plain HTTP)');
  if (url.pathname !== '/' || url.search || url.username || url.password) throw new RangeError('the TikTok URL is a base URL: scheme, host and port only');
  return url;
}

export class DirectTransport implements LiveTransport {
  readonly name = 'direct';
  readonly user: string;
  private readonly tiktokUrl: URL | undefined;

  constructor(private readonly options: DirectTransportOptions) {
    this.user = options.user.replace(/^@/, '');
    this.tiktokUrl = options.tiktokUrl === undefined ? undefined : checkTiktokUrl(options.tiktokUrl);
  }

  async connect(handlers: LiveHandlers, signal: AbortSignal): Promise<LiveConnection> {
    const connection = this.connection();
    // The connector's event typings do not resolve under NodeNext; it is a plain EventEmitter.
    const events = connection as unknown as EventEmitter;
    let connected = false;
    let streamEnded = false;
    events.on('decodedData', (type: string, decoded: { data: unknown }, payload: Uint8Array) => {
      handlers.onMessage({ type, data: toJsonSafe(decoded.data) as Record<string, unknown>, proto: payload, receivedAt: new Date() });
    });
    events.on('websocketConnected', (client: EventEmitter) => {
      // Messages the connector could not decode are skipped by it silently; they become dead letters here.
      client.on('protoMessageFetchResult', (result: { messages?: { method: string; payload: Uint8Array; decodedData?: unknown; decodeError?: unknown }[] }) => {
        for (const message of result.messages ?? []) {
          if (message.decodedData) continue;
          if (message.decodeError)
            handlers.onRejected({ code: 'LIVE_DECODE_FAILED', type: message.method, message: `the bytes do not decode as ${message.method}`, proto: rejectedBytes(message.payload) });
          else handlers.onRejected({ code: 'LIVE_UNKNOWN_TYPE', type: message.method, message: `the connector has no schema for ${message.method}` });
        }
      });
    });
    events.on('error', ({ info, exception }: { info: string; exception: unknown }) => {
      if (!connected) return; // connect() rejects with it
      if (info === 'Websocket message decoding failed') handlers.onRejected({ code: 'LIVE_BAD_FRAME', message: maskSecrets(errorSummary(exception)) });
      else handlers.onError({ message: maskSecrets(`${info}: ${errorSummary(exception)}`), code: 'CONNECTOR_ERROR' });
    });
    events.on('streamEnd', () => {
      streamEnded = true;
    });
    const closed = new Promise<LiveClose>((resolve) => {
      events.once('disconnected', ({ code, reason }: { code: number; reason: string }) => {
        resolve(
          streamEnded
            ? { reason: 'the stream ended', code: 'STREAM_END', streamEnded: true }
            : { reason: reason ? `${reason} (close code ${code})` : `the connection was lost (close code ${code})`, code, streamEnded: false },
        );
      });
    });

    const onAbort = () => void connection.disconnect().catch(() => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const state = await connection.connect();
      connected = true;
      return {
        roomId: state.roomId,
        closed,
        close: async () => {
          await connection.disconnect();
        },
      };
    } catch (error) {
      throw classify(error);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private connection(): TikTokLiveConnection {
    const { tiktokUrl } = this;
    const { signApiKey, tiktokSession, agent } = this.options;
    const signApiUrl = this.options.signApiUrl ?? tiktokUrl?.origin ?? DEFAULT_SIGN_API_URL;
    const eulerApiInstance = new EulerStreamApiClient({
      basePath: signApiUrl.replace(/\/$/, ''),
      apiKey: signApiKey,
      // As the connector configures its own client: every status is an answer it interprets (429, 402).
      baseOptions: {
        headers: { 'User-Agent': `tiktok-live-connector/${VERSION} ${process.platform}` },
        validateStatus: () => true,
        ...(agent ? { httpAgent: agent, httpsAgent: agent, proxy: false } : {}),
      },
    });
    const webClientOptions: Record<string, unknown> = {};
    let webConfigOverrides: Record<string, string> | undefined;
    if (tiktokUrl !== undefined) {
      const loopback = loopbackAddress(tiktokUrl.hostname);
      const host = loopback ? `${LOOPBACK_ALIAS}${tiktokUrl.port ? `:${tiktokUrl.port}` : ''}` : tiktokUrl.host;
      if (loopback) webClientOptions.dnsLookup = aliasLookup(loopback);
      webConfigOverrides = { TIKTOK_HOST_WEB: host, TIKTOK_HOST_WEBCAST: host, TIKTOK_HTTP_ORIGIN: tiktokUrl.origin };
    }
    if (agent) webClientOptions.agent = { http: agent, https: agent };
    return new TikTokLiveConnection(this.user, {
      eulerApiInstance: eulerApiInstance as never,
      webClientOptions: webClientOptions as never,
      wsClientOptions: agent ? { agent } : undefined,
      webConfigOverrides: webConfigOverrides as never,
      session: tiktokSession ? { cookie: { type: 'cookie', value: tiktokSession } } : undefined,
    } as ConstructorParameters<typeof TikTokLiveConnection>[1]);
  }
}

/** The connector's typed errors, as the follower acts on them. Messages never carry secrets. */
export function classify(error: unknown): LiveConnectError {
  const message = maskSecrets(errorSummary(error));
  if (error instanceof UserOfflineError) return new LiveConnectError('offline', 'USER_OFFLINE', 'the user is not live');
  if (error instanceof SignatureRateLimitError)
    return new LiveConnectError('rate-limited', 'SIGN_RATE_LIMITED', 'the sign server is rate-limiting new connections', error.retryAfter > 0 ? error.retryAfter : undefined);
  if (error instanceof PremiumFeatureError || error instanceof AuthenticatedWebSocketConnectionError)
    return new LiveConnectError('fatal', 'SIGN_NOT_PERMITTED', `the sign server refused: ${message}`);
  if (error instanceof InvalidUniqueIdError) return new LiveConnectError('fatal', 'INVALID_USER', message);
  return new LiveConnectError('transient', 'CONNECT_FAILED', message);
}
