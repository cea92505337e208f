/**
 * The pipeline's consumer stages: raw → normalizer → events → storage writer.
 * Each stage acknowledges its bus entries only after its side effects are done, so
 * at-least-once delivery plus idempotent writes stores every event exactly once.
 */
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import type { BusEntry, Consumer, DeadLetter, EventBus } from '../bus/types.ts';
import { normalizeEnvelope } from '../normalize/index.ts';
import { insertEvents } from '../store/events.ts';
import type { Store } from '../store/database.ts';
import { retryTransient } from './transient.ts';

export const NORMALIZER_GROUP = 'normalizer';
export const STORAGE_GROUP = 'storage';

export interface StageOptions {
  bus: EventBus;
  consumer: string;
  maxDeliveries?: number;
  claimIdleMs?: number;
  blockMs?: number;
  onError?: (stage: string, error: unknown) => void;
}

export function deadLetter(stage: string, reason: string, error: string, entry: BusEntry): DeadLetter {
  return {
    stage,
    reason,
    error,
    payload: entry.payload,
    failedAt: new Date().toISOString(),
    source: { stream: entry.stream, id: entry.id, deliveries: entry.deliveries },
  };
}

/** The consumer settings a stage takes from its options; the stage adds where it reads and what it does. */
function stageConsumer(options: StageOptions & { batchSize?: number }, stage: string) {
  return {
    consumer: options.consumer,
    stage,
    batchSize: options.batchSize ?? 500,
    maxDeliveries: options.maxDeliveries,
    claimIdleMs: options.claimIdleMs,
    blockMs: options.blockMs,
    onError: (error: unknown) => options.onError?.(stage, error),
  };
}

/**
 * raw envelopes → UnifiedEvents on `events`; rejections → `dlq` with the normalizer's code (entries
 * that are not raw.v1 envelopes are dead-lettered by the bus, and reported to `onRejected` as well).
 */
export function startNormalizer(
  options: StageOptions & { debug?: boolean; batchSize?: number; onRejected?: (rejected: DeadLetter[]) => void },
): Consumer {
  const { bus } = options;
  return bus.consume({
    ...stageConsumer(options, 'normalize'),
    stream: 'raw',
    group: NORMALIZER_GROUP,
    onDeadLettered: (letter) => options.onRejected?.([letter]),
    handler: async (entries) => {
      const events: UnifiedEvent[] = [];
      const rejected: DeadLetter[] = [];
      for (const entry of entries) {
        const result = normalizeEnvelope(entry.payload, { debug: options.debug, knownSize: entry.size });
        if (result.ok) events.push(result.event);
        else rejected.push(deadLetter('normalize', result.rejection.code, result.rejection.message, entry));
      }
      if (events.length > 0) await bus.publishMany('events', events);
      if (rejected.length > 0) {
        await bus.publishMany('dlq', rejected);
        options.onRejected?.(rejected);
      }
    },
  });
}

export interface StorageWriterOptions extends StageOptions {
  store: Store;
  batchSize?: number;
  /** Called after a batch is stored, with its events and how many of them were new (not re-deliveries). */
  onStored?: (events: UnifiedEvent[], inserted: number) => void;
  signal?: AbortSignal;
}

/** UnifiedEvents on `events` → the `events` table, in batches of one statement each. */
export function startStorageWriter(options: StorageWriterOptions): Consumer {
  const { bus, store } = options;
  return bus.consume({
    ...stageConsumer(options, 'store'),
    stream: 'events',
    group: STORAGE_GROUP,
    handler: async (entries) => {
      const events = entries.map((entry) => entry.payload);
      // A lost connection or a restarted server must not turn good events into dead letters.
      const { inserted } = await retryTransient(() => insertEvents(store, events), {
        signal: options.signal,
        onRetry: (error) => options.onError?.('store', error),
      });
      options.onStored?.(events, inserted);
    },
  });
}
