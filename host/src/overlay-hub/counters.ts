/**
 * The `host/counters` channel: likes, viewers, follows, shares and coins of the latest session,
 * tallied from the `events` stream and published as state at most every 250 ms.
 */
import type { UnifiedEvent } from '@ttlp/sdk';

export interface StreamCountersState {
  sessionId: string | null;
  /** `totalLikeCount` of the latest LIKE. */
  likes: number;
  /** `viewerCount` of the latest JOIN that carried one. */
  viewers: number | null;
  follows: number;
  shares: number;
  /** Coins of gifts, a streak counted once, at its end. */
  coins: number;
}

export interface StreamCountersOptions {
  /** Shortest time between two publications. */
  intervalMs: number;
  publish: (state: StreamCountersState) => void;
}

/** Sessions left behind: their late events must not reset the counters of the current one. */
const RETIRED_SESSIONS = 32;

const emptyState = (sessionId: string | null): StreamCountersState => ({ sessionId, likes: 0, viewers: null, follows: 0, shares: 0, coins: 0 });

export class StreamCounters {
  private current = emptyState(null);
  private readonly retired = new Set<string>();
  /** Starts dirty so that the first publication announces the empty state. */
  private dirty = true;
  private lastPublishedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: StreamCountersOptions) {}

  get state(): Readonly<StreamCountersState> {
    return this.current;
  }

  observe(events: Iterable<UnifiedEvent>): void {
    for (const event of events) this.count(event);
    if (this.dirty) this.schedule();
  }

  /** Publishes the state now if it changed since the last publication. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    this.lastPublishedAt = Date.now();
    this.options.publish({ ...this.current });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private count(event: UnifiedEvent): void {
    if (this.retired.has(event.sessionId)) return;
    const before = this.current;
    if (event.sessionId !== before.sessionId) {
      if (before.sessionId !== null) this.retire(before.sessionId);
      this.current = emptyState(event.sessionId);
      this.dirty = true;
    }
    const next = { ...this.current };
    switch (event.eventType) {
      case 'LIKE':
        if (event.payload) next.likes = event.payload.totalLikeCount;
        break;
      case 'JOIN':
        if (event.payload?.viewerCount !== undefined) next.viewers = event.payload.viewerCount;
        break;
      case 'FOLLOW':
        next.follows += 1;
        break;
      case 'SHARE':
        next.shares += 1;
        break;
      case 'GIFT':
        // A streak sends a message per repeat, each with the running total: only its last one counts.
        if (event.payload && (!event.payload.isGiftStreak || event.payload.streakEnd)) next.coins += event.payload.coins;
        break;
      default:
        return;
    }
    const current = this.current;
    if (next.likes !== current.likes || next.viewers !== current.viewers || next.follows !== current.follows || next.shares !== current.shares || next.coins !== current.coins) {
      this.current = next;
      this.dirty = true;
    }
  }

  private retire(sessionId: string): void {
    this.retired.add(sessionId);
    if (this.retired.size > RETIRED_SESSIONS) {
      const oldest = this.retired.values().next();
      if (!oldest.done) this.retired.delete(oldest.value);
    }
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.lastPublishedAt + this.options.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }
}
