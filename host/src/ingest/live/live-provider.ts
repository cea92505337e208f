/**
 * Following one TikTok user live: connect through a transport (direct or euler), turn what
 * arrives into the raw envelopes of one session per connection, and keep following through
 * offline periods, rate limits, dropped sockets and stream ends (issue: live ingest; D-033).
 */
import { randomUUID } from 'node:crypto';
import type { RawEnvelope } from '@ttlp/sdk';
import { errorSummary } from '../../error-summary.ts';
import { EnvelopeFactory } from '../envelope.ts';
import { abortableSleep, pause, type IngestProvider, type Sleep } from '../provider.ts';
import type { IngestStatus } from '../status.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { LiveConnectError, type LiveClose, type LiveConnection, type LiveMessage, type LiveRejection, type LiveTransport } from './transport.ts';

export interface LiveProviderOptions {
  transport: LiveTransport;
  /** This provider's entry on the host's ingest board; created when not given. */
  status?: IngestStatus;
  /** How often to check whether an offline user went live, ms. Default 30 000. */
  livePollMs?: number;
  /** Reconnect delays after failures (default 1 s → 60 s, ×2, ±20 %). */
  backoff?: BackoffOptions;
  /** Failed attempts in a row before giving up; 0 = never give up (the default). */
  maxAttempts?: number;
  sleep?: Sleep;
  /** Clock, ms. Default Date.now. */
  now?: () => number;
  /** Undecodable messages; the caller dead-letters them. */
  onRejected?: (rejection: LiveRejection, context: { sessionId: string; user: string }) => void;
  /** Every decoded message as received (the recorder). */
  onMessage?: (message: LiveMessage) => void;
  /** Progress worth a log line: connected, waiting, retrying, gave up. */
  onNotice?: (notice: LiveNotice) => void;
}

export type LiveNotice =
  | { kind: 'connected'; user: string; roomId: string; sessionId: string; reconnect: boolean }
  | { kind: 'disconnected'; user: string; sessionId: string; reason: string; willReconnect: boolean }
  | { kind: 'offline'; user: string; retryInMs: number }
  | { kind: 'retrying'; user: string; error: string; code: string; retryInMs: number; attempt: number }
  | { kind: 'gave-up'; user: string; error: string; code: string };

/** Envelopes wait here between the connector's callbacks and the pipeline's pull. */
class EnvelopeQueue {
  private readonly items: RawEnvelope[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private failure: unknown;

  push(envelope: RawEnvelope): void {
    this.items.push(envelope);
    this.signal();
  }

  end(failure?: unknown): void {
    this.ended = true;
    this.failure = failure;
    this.signal();
  }

  async *drain(): AsyncGenerator<RawEnvelope> {
    for (;;) {
      while (this.items.length > 0) yield this.items.shift()!;
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

const DEFAULT_LIVE_POLL_MS = 30_000;
/**
 * A connection that held this long resets the back-off; one dropped sooner counts as a failed
 * attempt, so a relay that accepts and drops at once is not hammered every second.
 */
export const STABLE_CONNECTION_MS = 5_000;

/** Reason of the DISCONNECTED event a stopping host writes. */
const HOST_STOPPING = 'HOST_STOPPING';

export class LiveProvider implements IngestProvider {
  readonly name: 'direct' | 'euler';
  readonly status: IngestStatus;
  private readonly backoff: Backoff;
  private readonly now: () => number;

  constructor(private readonly options: LiveProviderOptions) {
    this.name = options.transport.name;
    this.status = options.status ?? {
      name: this.name,
      user: options.transport.user,
      state: 'connecting',
      streamId: null,
      sessionId: null,
      reconnects: 0,
      lastError: null,
    };
    this.backoff = new Backoff(options.backoff);
    this.now = options.now ?? Date.now;
    if (options.maxAttempts !== undefined && !(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 0))
      throw new RangeError('maxAttempts must be a whole number ≥ 0');
  }

  envelopes(signal?: AbortSignal): AsyncIterable<RawEnvelope> {
    const queue = new EnvelopeQueue();
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    if (signal?.aborted) stop.abort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const following = this.follow(queue, stop.signal)
      .then(
        () => queue.end(),
        (error: unknown) => queue.end(error),
      )
      .finally(() => signal?.removeEventListener('abort', onAbort));
    const drain = queue.drain();
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => drain.next(),
        // The pipeline stopped pulling (it failed): stop following too.
        return: async () => {
          stop.abort();
          await following;
          return drain.return(undefined);
        },
      }),
    };
  }

  private async follow(queue: EnvelopeQueue, signal: AbortSignal): Promise<void> {
    const { transport } = this.options;
    const sleep = this.options.sleep ?? abortableSleep;
    const livePollMs = this.options.livePollMs ?? DEFAULT_LIVE_POLL_MS;
    let connections = 0;
    try {
      while (!signal.aborted) {
        this.status.state = 'connecting';
        const sessionId = randomUUID();
        const session = new SessionEnvelopes(sessionId, transport.name, queue);
        let connection: LiveConnection;
        try {
          connection = await transport.connect(
            {
              onMessage: (message) => {
                this.options.onMessage?.(message);
                session.message(message);
              },
              onRejected: (rejection) => this.options.onRejected?.(rejection, { sessionId, user: transport.user }),
              onError: (error) => session.error(error),
            },
            signal,
          );
        } catch (error) {
          if (signal.aborted) break;
          if (!(await this.waitAfterFailure(error, sleep, livePollMs, signal))) break;
          continue;
        }
        const connectedAt = this.now();
        session.open(connection.roomId);
        Object.assign(this.status, { state: 'connected', streamId: connection.roomId, sessionId, lastError: null });
        if (connections > 0) this.status.reconnects += 1;
        this.options.onNotice?.({ kind: 'connected', user: transport.user, roomId: connection.roomId, sessionId, reconnect: connections > 0 });
        connections += 1;

        const end = await untilClosedOrAborted(connection.closed, signal);
        if (end === undefined) {
          await connection.close().catch(() => undefined);
          session.close({ reason: 'the host is stopping', code: HOST_STOPPING, willReconnect: false });
          break;
        }
        session.close({ reason: end.reason, code: end.code, willReconnect: !end.streamEnded });
        if (this.now() - connectedAt >= STABLE_CONNECTION_MS) this.backoff.reset();
        // After a stream end the next connect finds the user offline and polls from there.
        this.status.state = end.streamEnded ? 'offline' : 'disconnected';
        this.options.onNotice?.({ kind: 'disconnected', user: transport.user, sessionId, reason: end.reason, willReconnect: !end.streamEnded });
        if (end.streamEnded) {
          if (!(await pause(sleep, livePollMs, signal))) break;
        } else {
          this.status.lastError = `disconnected: ${end.reason}`;
          if (!(await pause(sleep, this.backoff.next(), signal))) break;
        }
      }
    } finally {
      this.status.state = 'stopped';
    }
  }

  /** Waits as the failure asks; false when following should stop (aborted, fatal, or out of attempts). */
  private async waitAfterFailure(error: unknown, sleep: Sleep, livePollMs: number, signal: AbortSignal): Promise<boolean> {
    const { transport, maxAttempts = 0 } = this.options;
    const failure = error instanceof LiveConnectError ? error : new LiveConnectError('transient', 'CONNECT_FAILED', errorSummary(error));
    if (failure.kind === 'offline') {
      this.status.state = 'offline';
      this.status.lastError = null;
      this.options.onNotice?.({ kind: 'offline', user: transport.user, retryInMs: livePollMs });
      return pause(sleep, livePollMs, signal);
    }
    this.status.lastError = failure.message;
    if (failure.kind === 'fatal') {
      this.options.onNotice?.({ kind: 'gave-up', user: transport.user, error: failure.message, code: failure.code });
      return false;
    }
    // Every failure counts as an attempt; a rate limit's own retry-after wins over the back-off.
    const backoffMs = this.backoff.next();
    const delay = failure.kind === 'rate-limited' && failure.retryAfterMs !== undefined && failure.retryAfterMs > 0 ? failure.retryAfterMs : backoffMs;
    const attempt = this.backoff.attempts;
    if (maxAttempts > 0 && attempt >= maxAttempts) {
      this.options.onNotice?.({ kind: 'gave-up', user: transport.user, error: `${failure.message} (${attempt} attempts)`, code: failure.code });
      return false;
    }
    this.status.state = 'disconnected';
    this.options.onNotice?.({ kind: 'retrying', user: transport.user, error: failure.message, code: failure.code, retryInMs: delay, attempt });
    return pause(sleep, delay, signal);
  }
}

/**
 * The envelopes of one connection attempt; messages that arrive before the room is known wait
 * for it. An attempt that fails before that has no session, so its early messages go nowhere
 * (a recording still has them: the recorder sees every message as it arrives).
 */
class SessionEnvelopes {
  private factory: EnvelopeFactory | undefined;
  private early: (() => void)[] = [];

  constructor(
    readonly sessionId: string,
    private readonly provider: string,
    private readonly queue: EnvelopeQueue,
  ) {}

  open(roomId: string): void {
    this.factory = new EnvelopeFactory(roomId, this.sessionId, 'live');
    this.queue.push(this.factory.make('connected', { roomId, isConnected: true, provider: this.provider }));
    for (const emit of this.early.splice(0)) emit();
  }

  message(message: LiveMessage): void {
    this.whenOpen((factory) => factory.make(message.type, message.data, { timestamp: message.receivedAt, ingestedAt: message.receivedAt }));
  }

  error(error: { message: string; code?: string }): void {
    this.whenOpen((factory) => factory.make('error', { message: error.message, code: error.code }));
  }

  close(end: { reason: string; code?: string | number; willReconnect: boolean }): void {
    this.whenOpen((factory) => factory.make('disconnected', { reason: end.reason, code: end.code, willReconnect: end.willReconnect }));
  }

  private whenOpen(make: (factory: EnvelopeFactory) => RawEnvelope): void {
    if (this.factory) this.queue.push(make(this.factory));
    else this.early.push(() => this.queue.push(make(this.factory!)));
  }
}

function untilClosedOrAborted(closed: Promise<LiveClose>, signal: AbortSignal): Promise<LiveClose | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    closed.then(
      (end) => {
        signal.removeEventListener('abort', onAbort);
        resolve(end);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ reason: errorSummary(error), code: 'CONNECTION_FAILED', streamEnded: false });
      },
    );
  });
}
