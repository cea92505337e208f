/**
 * One host's view of the pipeline: the store, the bus, the consumer stages it runs, and
 * the helpers commands use to feed it and to wait until what they fed is stored.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { RawEnvelope, UnifiedEvent } from '@ttlp/sdk';
import type { HostConfig } from '../config.ts';
import { errorSummary } from '../error-summary.ts';
import type { Logger } from '../log.ts';
import { createBus } from '../bus/index.ts';
import type { Consumer, DeadLetter, EventBus, StreamName } from '../bus/types.ts';
import { openStore, type Store } from '../store/database.ts';
import { endSession, startSession } from '../store/sessions.ts';
import type { IngestProvider } from '../ingest/provider.ts';
import { publishProvider, type PublishResult } from './publisher.ts';
import { NORMALIZER_GROUP, STORAGE_GROUP, startNormalizer, startStorageWriter } from './stages.ts';
import { retryTransient } from './transient.ts';

/** How the sessions a provider starts are recorded in `sessions`. */
export interface SessionOrigin {
  type: 'live' | 'replay';
  provider: string;
  meta?: Record<string, unknown>;
}

/** Unique per process, readable in XINFO CONSUMERS. */
export function consumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export class Pipeline {
  private readonly consumers: Consumer[] = [];
  private readonly stopping = new AbortController();

  private constructor(
    readonly config: HostConfig,
    readonly store: Store,
    readonly bus: EventBus,
    readonly consumer: string,
    private readonly log: Logger,
  ) {}

  /** Opens (and migrates) the store and connects the bus the configuration names. */
  static async open(config: HostConfig, log: Logger): Promise<Pipeline> {
    // A connection lost while migrating is worth another try; a server that cannot be reached at all is reported.
    const store = await retryTransient(() => openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }), {
      retryIf: (error) => (error as { code?: unknown }).code !== 'STORE_UNREACHABLE',
      maxAttempts: 5,
    });
    try {
      const consumer = consumerName();
      const bus = createBus({
        redisUrl: config.redisUrl,
        prefix: config.redisPrefix,
        maxLen: config.busMaxLen,
        overlayMaxLen: config.busOverlayMaxLen,
        connectionName: `ttlp-${consumer}`,
        onConnectionError: (error) => log.warn({ err: error.message }, `Redis connection error (${error.message}); reconnecting`),
      });
      log.debug({ store: store.location, bus: bus.kind }, 'pipeline back-ends open');
      return new Pipeline(config, store, bus, consumer, log);
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /** Runs the normalizer and the storage writer in this process. */
  startStages(
    options: { onStored?: (events: UnifiedEvent[], inserted: number) => void; onRejected?: (rejected: DeadLetter[]) => void } = {},
  ): void {
    const common = {
      bus: this.bus,
      consumer: this.consumer,
      maxDeliveries: this.config.busMaxDeliveries,
      claimIdleMs: this.config.busClaimIdleMs,
      onError: (stage: string, error: unknown) =>
        this.log.warn({ stage, err: errorSummary(error) }, `pipeline stage ${stage} failed (${errorSummary(error)}); will retry`),
    };
    this.consumers.push(startNormalizer({ ...common, debug: this.config.debug, onRejected: options.onRejected }));
    this.consumers.push(
      startStorageWriter({
        ...common,
        store: this.store,
        batchSize: this.config.storeBatchSize,
        onStored: options.onStored,
        signal: this.stopping.signal,
      }),
    );
  }

  /** Publishes a provider's envelopes to `raw`, recording each new session first. */
  ingest(
    provider: IngestProvider,
    origin: SessionOrigin,
    options: { signal?: AbortSignal; onPublished?: (published: number) => void } = {},
  ): Promise<PublishResult> {
    return publishProvider(provider, this.bus, {
      signal: options.signal,
      onPublished: options.onPublished,
      onSession: (first: RawEnvelope) =>
        this.resilient(() =>
          startSession(this.store, {
            sessionId: first.sessionId,
            streamId: first.streamId,
            type: origin.type,
            provider: origin.provider,
            meta: origin.meta,
          }),
        ),
      onSessionEnd: async (last: RawEnvelope) => {
        await this.resilient(() => endSession(this.store, last.sessionId, new Date(last.timestamp)));
      },
    });
  }

  /**
   * Resolves once every entry up to `rawLastId` on `raw` is normalized, and every event that
   * produced is stored. Other publishers' traffic does not confuse it; it only waits longer.
   */
  async waitForStored(rawLastId: string | undefined, options: { signal?: AbortSignal; onPoll?: () => Promise<void> } = {}): Promise<void> {
    if (rawLastId !== undefined) await this.waitProcessed('raw', NORMALIZER_GROUP, rawLastId, options);
    const eventsLastId = await retryTransient(() => this.bus.lastId('events'), { signal: options.signal });
    await this.waitForEventsStored(eventsLastId, options);
  }

  /** Like waitForStored, for entries published straight to `events` (replay). */
  async waitForEventsStored(eventsLastId: string | undefined, options: { signal?: AbortSignal; onPoll?: () => Promise<void> } = {}): Promise<void> {
    if (eventsLastId !== undefined) await this.waitProcessed('events', STORAGE_GROUP, eventsLastId, options);
  }

  private async waitProcessed(
    stream: StreamName,
    group: string,
    id: string,
    options: { signal?: AbortSignal; onPoll?: () => Promise<void> },
  ): Promise<void> {
    const resilient = <T>(work: () => Promise<T>) => retryTransient(work, { signal: options.signal });
    while (!(await resilient(() => this.bus.processed(stream, group, id)))) {
      options.signal?.throwIfAborted();
      if (options.onPoll) await resilient(options.onPoll);
      await delay(100, undefined, { signal: options.signal });
    }
  }

  /** Runs a store or bus call again while it fails for transient reasons (lost connections). */
  resilient<T>(work: () => Promise<T>): Promise<T> {
    return retryTransient(work, { signal: this.stopping.signal });
  }

  /** Stops the stages (each finishes the batch in hand), then closes the bus and the store. */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.consumers.splice(0).map((consumer) => consumer.stop()));
    await this.bus.close();
    await this.store.close();
  }
}
