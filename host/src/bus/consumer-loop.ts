/**
 * The consumer loop both buses run, so they keep one set of semantics: own pending entries
 * first, then new ones; a periodic claim of entries left pending too long by any consumer;
 * entries that break their stream's contract and those past maxDeliveries dead-lettered;
 * acknowledgements only after the handler resolved.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { errorSummary } from '../error-summary.ts';
import { INVALID_ENTRY, STREAM_CONTRACTS } from './stream-contracts.ts';
import type { BusEntry, Consumer, ConsumerOptions, DeadLetter, StreamName, StreamPayload } from './types.ts';

/** An entry as a group read hands it out: still JSON text, or null when it was trimmed away meanwhile. */
export interface Delivery {
  id: string;
  text: string | null;
  /** Deliveries to the group so far, this one included. */
  deliveries: number;
}

/** One consumer's access to its group, with the semantics of XREADGROUP, XAUTOCLAIM and XACK. */
export interface GroupReader {
  /** Creates the group, reading from the start of the stream, unless it exists. */
  ensureGroup(): Promise<void>;
  /** This consumer's own pending entries, oldest first; each read counts as a new delivery. */
  readPending(count: number): Promise<Delivery[]>;
  /** Entries never delivered to the group, waiting up to `blockMs` for some to arrive. */
  readNew(count: number, blockMs: number): Promise<Delivery[]>;
  /**
   * Takes over entries pending longer than `minIdleMs`, from any consumer, continuing the
   * scan where the previous call stopped; `wrapped` once the scan has gone round the list.
   */
  claimIdle(minIdleMs: number, count: number): Promise<{ claimed: Delivery[]; wrapped: boolean }>;
  ack(ids: string[]): Promise<void>;
  /** Cuts the read, claim or group creation in flight short; it then resolves empty or rejects. */
  interrupt(): void;
  /** Releases what the reader holds; called once, after the loop has ended. */
  close(): Promise<void>;
}

export const CONSUMER_DEFAULTS = { batchSize: 100, blockMs: 1000, maxDeliveries: 5, claimIdleMs: 30_000, retryDelayMs: 250 };

/** Handler errors kept for dead letters; bounded because entries claimed away never settle here. */
const REMEMBERED_ERRORS = 10_000;
/** Contract violations named in an INVALID_ENTRY dead letter. */
const REPORTED_VIOLATIONS = 5;

type Settings<S extends StreamName> = ConsumerOptions<S> & typeof CONSUMER_DEFAULTS;

export function startConsumerLoop<S extends StreamName>(
  options: ConsumerOptions<S>,
  reader: GroupReader,
  deadLetter: (letter: DeadLetter) => Promise<unknown>,
): Consumer {
  return new ConsumerLoop<S>({ ...CONSUMER_DEFAULTS, ...definedOnly(options) }, reader, deadLetter);
}

function definedOnly<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}

class ConsumerLoop<S extends StreamName> implements Consumer {
  private stopping = false;
  /** A read is in flight: stopping may cut it short, its entries then stay pending. */
  private reading = false;
  private groupReady = false;
  private source: 'pending' | 'new' = 'pending';
  /**
   * After a failed batch its entries come back one at a time, so that one bad entry does
   * not take its batch-mates to the dead-letter stream with it.
   */
  private isolating = false;
  private nextClaimAt = 0;
  private readonly pause = new AbortController();
  private readonly lastErrors = new Map<string, string>();
  private readonly done: Promise<void>;
  private groupCreated!: () => void;
  private readonly created = new Promise<void>((resolve) => (this.groupCreated = resolve));

  constructor(
    private readonly settings: Settings<S>,
    private readonly reader: GroupReader,
    private readonly deadLetter: (letter: DeadLetter) => Promise<unknown>,
  ) {
    this.done = this.run()
      .then(() => this.reader.close())
      .catch((error: unknown) => this.report(error, []));
  }

  ready(): Promise<void> {
    return this.created;
  }

  stop(): Promise<void> {
    this.groupCreated();
    if (!this.stopping) {
      this.stopping = true;
      this.pause.abort();
      if (this.reading) this.reader.interrupt();
    }
    return this.done;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        this.reading = true;
        const batch = await this.nextBatch().finally(() => (this.reading = false));
        if (this.stopping || batch.length === 0) continue;
        if (!(await this.handle(batch))) {
          [this.source, this.isolating] = ['pending', true];
          await this.sleep(this.settings.retryDelayMs);
        }
      } catch (error) {
        if (this.stopping) break;
        this.report(error, []);
        // The group may have gone with its stream; entries read before the error are pending again.
        [this.groupReady, this.source] = [false, 'pending'];
        await this.sleep(this.settings.retryDelayMs);
      }
    }
  }

  /** Claimed entries when a claim is due, else own pending entries until none are left, else new ones. */
  private async nextBatch(): Promise<Delivery[]> {
    const { batchSize, blockMs, claimIdleMs } = this.settings;
    if (!this.groupReady) {
      await this.reader.ensureGroup();
      this.groupReady = true;
      this.groupCreated();
    }
    if (Date.now() >= this.nextClaimAt) {
      const { claimed, wrapped } = await this.reader.claimIdle(claimIdleMs, batchSize);
      this.nextClaimAt = wrapped ? Date.now() + claimIdleMs / 2 : 0;
      return claimed;
    }
    // At least 1 ms: Redis reads BLOCK 0 as "forever", and never waiting would spin the loop.
    if (this.source === 'new') return this.reader.readNew(batchSize, Math.max(1, Math.round(blockMs)));
    const batch = await this.reader.readPending(this.isolating ? 1 : batchSize);
    if (batch.length === 0) [this.source, this.isolating] = ['new', false];
    return batch;
  }

  /** True once the batch is acknowledged; false when the handler failed and it stays pending. */
  private async handle(batch: Delivery[]): Promise<boolean> {
    const entries: BusEntry<StreamPayload<S>>[] = [];
    const settled: string[] = [];
    for (const delivery of batch) {
      const entry = await this.admit(delivery);
      if (entry) entries.push(entry);
      else settled.push(delivery.id);
    }
    if (settled.length > 0) await this.acknowledge(settled);
    if (entries.length === 0) return true;
    try {
      await this.settings.handler(entries);
    } catch (error) {
      for (const entry of entries) this.remember(entry.id, errorSummary(error));
      this.report(error, entries);
      return false;
    }
    await this.acknowledge(entries.map((entry) => entry.id));
    return true;
  }

  /** The entry for the handler, or undefined once it is dead-lettered or gone (it is then acked). */
  private async admit(delivery: Delivery): Promise<BusEntry<StreamPayload<S>> | undefined> {
    const { id, text, deliveries } = delivery;
    if (text === null) return undefined;
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (error) {
      await this.publishDeadLetter(delivery, 'PAYLOAD_NOT_JSON', `payload is not JSON: ${errorSummary(error)}`, text);
      return undefined;
    }
    const checked = STREAM_CONTRACTS[this.settings.stream](payload);
    if (!checked.ok) {
      const violations = checked.errors.slice(0, REPORTED_VIOLATIONS).join('; ');
      await this.publishDeadLetter(delivery, INVALID_ENTRY, `breaks the ${this.settings.stream} stream's contract: ${violations}`, payload);
      return undefined;
    }
    if (deliveries > this.settings.maxDeliveries) {
      const error = this.lastErrors.get(id) ?? `delivered ${deliveries - 1} times without success`;
      await this.publishDeadLetter(delivery, 'MAX_DELIVERIES', error, payload);
      return undefined;
    }
    return { id, stream: this.settings.stream, payload: checked.value, deliveries, size: text.length, text };
  }

  private async publishDeadLetter(delivery: Delivery, reason: string, error: string, payload: unknown): Promise<void> {
    const { stream, stage } = this.settings;
    const letter: DeadLetter = {
      stage,
      reason,
      error,
      payload,
      failedAt: new Date().toISOString(),
      source: { stream, id: delivery.id, deliveries: delivery.deliveries },
    };
    await this.deadLetter(letter);
    this.notify(() => this.settings.onDeadLettered?.(letter));
  }

  private async acknowledge(ids: string[]): Promise<void> {
    await this.reader.ack(ids);
    for (const id of ids) this.lastErrors.delete(id);
  }

  private remember(id: string, error: string): void {
    this.lastErrors.delete(id);
    this.lastErrors.set(id, error);
    if (this.lastErrors.size > REMEMBERED_ERRORS) {
      const oldest = this.lastErrors.keys().next();
      if (!oldest.done) this.lastErrors.delete(oldest.value);
    }
  }

  private report(error: unknown, entries: BusEntry<StreamPayload<S>>[]): void {
    this.notify(() => this.settings.onError?.(error, entries));
  }

  private notify(callback: () => void): void {
    try {
      callback();
    } catch {
      // A failing callback must not end the loop that called it.
    }
  }

  private async sleep(ms: number): Promise<void> {
    await delay(ms, undefined, { signal: this.pause.signal }).catch(() => undefined);
  }
}

/** The consumers a bus started, so that closing the bus stops those still running. */
export class RunningConsumers {
  private readonly running = new Set<Consumer>();

  add(consumer: Consumer): Consumer {
    this.running.add(consumer);
    return {
      ready: () => consumer.ready(),
      stop: async () => {
        await consumer.stop();
        this.running.delete(consumer);
      },
    };
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((consumer) => consumer.stop()));
    this.running.clear();
  }
}
