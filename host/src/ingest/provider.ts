/** What every ingest provider (capture, demo, later direct and euler) offers the pipeline. */
import { setTimeout as delay } from 'node:timers/promises';
import type { RawEnvelope } from '@ttlp/sdk';

export interface IngestProvider {
  /** Provider name as it appears in CONNECTED events and session rows. */
  readonly name: string;
  /**
   * Raw envelopes in the order the provider received them. The iteration ends when the
   * source is exhausted (a capture file) or when `signal` aborts (a live or demo stream).
   */
  envelopes(signal?: AbortSignal): AsyncIterable<RawEnvelope>;
}

/** Waits between messages; must settle (resolve or reject) when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const abortableSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal });

/** Waits `ms` with `sleep`; false when the signal aborted meanwhile, so the provider stops. */
export async function pause(sleep: Sleep, ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, signal);
  } catch (error) {
    if (signal?.aborted) return false;
    throw error;
  }
  return !signal?.aborted;
}
