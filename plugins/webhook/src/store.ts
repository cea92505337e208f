/**
 * The delivery queue and the dead-letter queue in kv, so that deliveries survive a restart:
 *
 * - `pending-ids`: the ids of the events waiting for delivery, in event order;
 *   `pending:<eventId>`: a `Delivery`;
 * - `dlq-ids`: the ids of the dead letters, oldest first; `dlq:<eventId>`: a `DeadLetter`.
 *
 * Writes are applied one after the other in the order they were asked for, so each list ends up as
 * the latest one written. A list is written before a record is added to it and after a record is
 * removed, so it never misses a stored record; an id whose record is missing (a crash between the
 * two writes) is dropped on load.
 */
import type { Json, PluginContext } from '@ttlp/sdk';

/** One event on its way to the receiver. */
export type Delivery = {
  eventId: string;
  /** The JSON sent, kept as text so that every attempt, also after a restart, sends and signs the same bytes. */
  body: string;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt is due, in ms since the epoch. */
  dueAt: number;
};

/** An event that was given up on. */
export type DeadLetter = { event: Json; attempts: number; lastError: string; failedAt: string };

/** Deliveries read at once when the queue is loaded. */
const LOAD_SLICE = 50;
const PENDING_IDS_KEY = 'pending-ids';
const DLQ_IDS_KEY = 'dlq-ids';
const pendingKey = (eventId: string) => `pending:${eventId}`;
const dlqKey = (eventId: string) => `dlq:${eventId}`;

export class DeliveryStore {
  private writes: Promise<void> = Promise.resolve();

  /** `onError` hears of writes that failed; the returned promises never reject. */
  constructor(
    private readonly kv: PluginContext['kv'],
    private readonly onError: (error: unknown) => void,
  ) {}

  async load(): Promise<{ pending: Delivery[]; deadIds: string[] }> {
    const pendingIds = (await this.kv.get<string[]>(PENDING_IDS_KEY)) ?? [];
    const records: Array<Delivery | undefined> = [];
    // In slices: a plugin may have only so many kv requests waiting at once.
    for (let start = 0; start < pendingIds.length; start += LOAD_SLICE)
      records.push(...(await Promise.all(pendingIds.slice(start, start + LOAD_SLICE).map((id) => this.kv.get<Delivery>(pendingKey(id))))));
    const deadIds = (await this.kv.get<string[]>(DLQ_IDS_KEY)) ?? [];
    return { pending: records.filter((record) => record !== undefined), deadIds };
  }

  added(pendingIds: string[], delivery: Delivery): Promise<void> {
    return this.serially(async () => {
      await this.kv.set(PENDING_IDS_KEY, pendingIds);
      await this.kv.set(pendingKey(delivery.eventId), delivery);
    });
  }

  updated(delivery: Delivery): Promise<void> {
    return this.serially(() => this.kv.set(pendingKey(delivery.eventId), delivery));
  }

  removed(pendingIds: string[], eventId: string): Promise<void> {
    return this.serially(async () => {
      await this.kv.delete(pendingKey(eventId));
      await this.kv.set(PENDING_IDS_KEY, pendingIds);
    });
  }

  /** Stores a dead letter under `dlq:<eventId>` and drops the `evictedIds`, which `deadIds` no longer lists. */
  deadLettered(deadIds: string[], eventId: string, letter: DeadLetter, evictedIds: string[]): Promise<void> {
    return this.serially(async () => {
      await this.kv.set(dlqKey(eventId), letter);
      await this.kv.set(DLQ_IDS_KEY, deadIds);
      for (const evicted of evictedIds) await this.kv.delete(dlqKey(evicted));
    });
  }

  private serially(write: () => Promise<void>): Promise<void> {
    const done = this.writes.then(write).catch(this.onError);
    this.writes = done;
    return done;
  }
}
