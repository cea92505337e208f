/**
 * The delivery queue: every accepted event is stored in kv first, then POSTed by one sender that
 * works through the queue in event order. A failed attempt leaves the event in its place with a
 * later due time, so the events behind it go out meanwhile; one timer wakes the sender for the
 * earliest due retry.
 *
 * The sender runs on its own, not inside the event's handler: the host dispatches each batch of
 * events to all plugins and waits for all of them, so waiting here for a slow or hanging receiver
 * would hold up every other plugin (and run into the sandbox's per-run deadline).
 */
import { messageOf, RecentKeys, type PluginContext, type UnifiedEvent } from '@ttlp/sdk';
import { LimitedLog } from './limited-log.ts';
import { resultOfError, resultOfStatus, retryDelayMs, type AttemptResult } from './policy.ts';
import { DeliveryStore, type Delivery } from './store.ts';

export interface ForwarderSettings {
  url: string;
  secret: string;
  signatureHeader: string;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** Events waiting at most; beyond, a new event goes straight to the dead-letter queue. The id list is one kv value (≤ 64 KB). */
export const MAX_PENDING = 500;
/** Dead letters kept; the oldest go first, so a receiver that stays down cannot fill kv. */
export const MAX_DEAD_LETTERS = 500;
/** Event ids remembered to drop re-delivered events (the bus delivers at least once). */
const SEEN_EVENTS_KEPT = 2000;

export class Forwarder {
  private readonly log: LimitedLog;
  private readonly store: DeliveryStore;
  private readonly seen = new RecentKeys(SEEN_EVENTS_KEPT);
  private queue: Delivery[] = [];
  private deadIds: string[] = [];
  private draining = false;
  private retryTimer: number | undefined;

  constructor(
    private readonly ctx: PluginContext,
    private readonly settings: ForwarderSettings,
  ) {
    this.log = new LimitedLog(ctx.log, (callback, ms) => ctx.setTimeout(callback, ms));
    this.store = new DeliveryStore(ctx.kv, (error) => this.log.error('writing the delivery queue to kv failed', { error: messageOf(error) }));
  }

  /** Loads what was pending before a restart and sends what is due. */
  async start(): Promise<void> {
    const { pending, deadIds } = await this.store.load();
    this.queue = pending;
    this.deadIds = deadIds;
    for (const delivery of pending) this.seen.add(delivery.eventId);
    void this.drain();
  }

  /** Queues an event; resolves once it is stored, before it is sent. */
  async accept(event: UnifiedEvent): Promise<void> {
    if (!this.seen.add(event.eventId)) return;
    const delivery: Delivery = { eventId: event.eventId, body: JSON.stringify(event), attempts: 0, dueAt: Date.now() };
    if (this.queue.length >= MAX_PENDING) return this.deadLetter(delivery, `the delivery queue is full (${MAX_PENDING} events waiting)`);
    this.queue.push(delivery);
    await this.store.added(this.pendingIds(), delivery);
    void this.drain();
  }

  /** Sends the due deliveries one at a time, in queue order, until none is due. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.firstDue(); next; next = this.firstDue()) await this.attempt(next);
    } finally {
      this.draining = false;
      this.scheduleRetry();
    }
  }

  private firstDue(): Delivery | undefined {
    const now = Date.now();
    return this.queue.find((delivery) => delivery.dueAt <= now);
  }

  /** One timer for the earliest due retry, however many are waiting (the sandbox allows 64 timers; the log uses one more). */
  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) this.ctx.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.queue.length === 0) return;
    const dueAt = Math.min(...this.queue.map((delivery) => delivery.dueAt));
    this.retryTimer = this.ctx.setTimeout(() => {
      this.retryTimer = undefined;
      void this.drain();
    }, dueAt - Date.now());
  }

  private async attempt(delivery: Delivery): Promise<void> {
    delivery.attempts += 1;
    const result = await this.post(delivery);
    if (result.outcome === 'delivered') return this.remove(delivery);
    if (result.outcome === 'retry' && delivery.attempts < this.settings.maxAttempts) {
      const { initialBackoffMs, maxBackoffMs } = this.settings;
      delivery.dueAt = Date.now() + retryDelayMs(delivery.attempts, initialBackoffMs, maxBackoffMs);
      return this.store.updated(delivery);
    }
    // Stored as a dead letter before it leaves the queue: a crash in between retries it rather than losing it.
    await this.deadLetter(delivery, result.error);
    await this.remove(delivery);
  }

  /** The body is the event alone, the same bytes on every attempt, so its signature and a receiver's dedupe by event id hold. */
  private async post(delivery: Delivery): Promise<AttemptResult> {
    const { url, secret, signatureHeader } = this.settings;
    try {
      const response = await this.ctx.http.fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-TTLP-Event-Id': delivery.eventId,
          'X-TTLP-Attempt': String(delivery.attempts),
        },
        body: delivery.body,
        sign: { header: signatureHeader, secret },
      });
      return resultOfStatus(response.status, response.body);
    } catch (error) {
      return resultOfError(messageOf(error));
    }
  }

  private remove(delivery: Delivery): Promise<void> {
    this.queue = this.queue.filter((queued) => queued !== delivery);
    return this.store.removed(this.pendingIds(), delivery.eventId);
  }

  private deadLetter(delivery: Delivery, lastError: string): Promise<void> {
    const { eventId, attempts } = delivery;
    const deadIds = [...this.deadIds.filter((id) => id !== eventId), eventId];
    const evicted = deadIds.slice(0, Math.max(0, deadIds.length - MAX_DEAD_LETTERS));
    this.deadIds = deadIds.slice(evicted.length);
    this.log.error('an event was not delivered; it is in the dead-letter queue', { eventId, attempts, lastError, key: `dlq:${eventId}` });
    const letter = { event: JSON.parse(delivery.body), attempts, lastError, failedAt: new Date().toISOString() };
    return this.store.deadLettered(this.deadIds, eventId, letter, evicted);
  }

  private pendingIds(): string[] {
    return this.queue.map((delivery) => delivery.eventId);
  }
}
