/** Retrying work that failed for reasons that go away by themselves (lost connections). */
import { setTimeout as delay } from 'node:timers/promises';

/** PostgreSQL SQLSTATE classes and Node error codes that mean "the connection, not the data". */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-3]|40001|40P01)/;
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'STORE_UNREACHABLE']);
const TRANSIENT_MESSAGES = /Connection terminated|connection (is )?closed|Client has encountered a connection error|terminating connection/i;

export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_NODE_CODES.has(code))) return true;
  return TRANSIENT_MESSAGES.test(error.message);
}

export interface RetryOptions {
  signal?: AbortSignal;
  /** First pause; doubles up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  onRetry?: (error: unknown, attempt: number) => void;
}

/** Runs `work` until it succeeds or fails for a non-transient reason (or the signal aborts). */
export async function retryTransient<T>(work: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  let pause = options.initialDelayMs ?? 100;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || options.signal?.aborted) throw error;
      options.onRetry?.(error, attempt);
      await delay(pause, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal?.aborted) throw error;
      pause = Math.min(pause * 2, options.maxDelayMs ?? 5000);
    }
  }
}
