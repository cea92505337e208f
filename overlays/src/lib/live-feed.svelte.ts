import { createSubscriber } from 'svelte/reactivity';
import type { UnifiedEvent } from '@ttlp/sdk';
import { ReconnectingSocket, sameHostSocketUrl, type SocketStatus } from '@ttlp/sdk/widget';

export const LIVE_FEED_LIMIT = 5000;
const FLUSH_MS = 100;

export interface FeedEntry {
  /** Increasing number, a stable key for the list (the same event may come twice). */
  key: number;
  event: UnifiedEvent;
}

/**
 * The settings page's live event feed over `/ws/live` (authenticated by the session cookie):
 * `{type: "event", event}` frames, newest first, at most LIVE_FEED_LIMIT kept. Frames are
 * applied in batches so a busy stream re-renders the list a few times a second at most.
 */
export class LiveFeed {
  #entries = $state.raw<FeedEntry[]>([]);
  #status = $state<SocketStatus>('idle');
  #received = $state(0);
  #paused = $state(false);
  #pending: FeedEntry[] = [];
  #nextKey = 1;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #socket: ReconnectingSocket;
  readonly #subscribe: () => void;

  constructor() {
    this.#socket = new ReconnectingSocket({
      url: () => sameHostSocketUrl('/ws/live', window.location),
      onFrame: (frame) => {
        if (frame.type !== 'event' || frame.event === null || typeof frame.event !== 'object') return;
        this.#pending.push({ key: this.#nextKey++, event: frame.event as UnifiedEvent });
        if (this.#pending.length > LIVE_FEED_LIMIT) this.#pending.splice(0, this.#pending.length - LIVE_FEED_LIMIT);
        this.#flushTimer ??= setTimeout(() => this.#flush(), FLUSH_MS);
      },
      onStatus: (status) => (this.#status = status),
    });
    this.#subscribe = createSubscriber(() => {
      this.#socket.start();
      return () => {
        this.#socket.stop();
        clearTimeout(this.#flushTimer);
        this.#flushTimer = undefined;
      };
    });
  }

  /** Keeps the feed connected for as long as the calling effect lives. */
  open(): void {
    this.#subscribe();
  }

  /** Newest first. Reading it in an effect or template keeps the feed connected. */
  get entries(): FeedEntry[] {
    this.#subscribe();
    return this.#entries;
  }

  get status(): SocketStatus {
    this.#subscribe();
    return this.#status;
  }

  /** Events received since the page opened. */
  get received(): number {
    return this.#received;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** While paused, events are kept aside and shown on resume (the list holds still for reading). */
  set paused(value: boolean) {
    this.#paused = value;
    if (!value) this.#flush();
  }

  clear(): void {
    this.#entries = [];
  }

  #flush(): void {
    this.#flushTimer = undefined;
    if (this.#paused || this.#pending.length === 0) return;
    const batch = this.#pending.reverse();
    this.#pending = [];
    this.#received += batch.length;
    this.#entries = batch.concat(this.#entries).slice(0, LIVE_FEED_LIMIT);
  }
}
