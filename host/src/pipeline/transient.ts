/**
 * Retrying work that failed for reasons that go away by themselves: a lost PostgreSQL or Redis
 * connection, a restarted server. Data errors are not transient and are thrown at once.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** PostgreSQL SQLSTATE classes and Node error codes that mean "the connection, not the data". */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-3]|40001|40P01)/;
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'STORE_UNREACHABLE']);
const TRANSIENT_MESSAGES =
  /Connection terminated|connection (is )?closed|Client has encountered a connection error|terminating connection|Command aborted due to connection close|Stream isn't writeable|ECONNRESET|ECONNREFUSED/i;

/** True when the error, or an error it wraps (drizzle wraps driver errors as `cause`), is transient. */
export function isTransient(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_NODE_CODES.has(code))) return true;
    if (TRANSIENT_MESSAGES.test(current.message)) return true;
  }
  return false;
}

export interface RetryOptions {
  signal?: AbortSignal;
  /** First pause; doubles up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this many attempts (default: never, while the error stays transient). */
  maxAttempts?: number;
  /** Narrows which transient errors are retried. */
  retryIf?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number) => void;
}

/** Runs `work` until it succeeds or fails for a non-transient reason (or the signal aborts). */
export async function retryTransient<T>(work: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  let pause = options.initialDelayMs ?? 100;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const retry = isTransient(error) && (options.retryIf?.(error) ?? true) && attempt < (options.maxAttempts ?? Infinity);
      if (!retry || options.signal?.aborted) throw error;
      options.onRetry?.(error, attempt);
      await delay(pause, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal?.aborted) throw error;
      pause = Math.min(pause * 2, options.maxDelayMs ?? 5000);
    }
  }
}
