/**
 * The `host/counters` channel: likes, viewers, follows, shares and coins of the latest session,
 * tallied from the `events` stream by a consumer of its own and published on the `overlay` stream
 * as state at most every 250 ms, like a plugin's, sealed for this host's hub.
 */
import { GiftStreaks, type CountersState, type UnifiedEvent } from '@ttlp/sdk';
import type { EventBus } from '../bus/types.ts';
import { errorSummary } from '../error-summary.ts';
import type { Logger } from '../log.ts';
import type { OverlayHub } from './hub.ts';
import { COUNTERS_CHANNEL_NAME, HOST_PUBLISHER, PROTOCOL_DEFAULTS } from './protocol.ts';

export type StreamCountersState = CountersState;

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
  private gifts = new GiftStreaks();
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
      this.gifts = new GiftStreaks();
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
        next.coins += this.gifts.add(event).coins;
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

/** The counters' consumer group on `events` is this plus the consumer name: one group per host, as for the live feed. */
export const COUNTERS_GROUP_PREFIX = 'counters:';

export interface CountersOptions {
  bus: EventBus;
  log: Logger;
  /** This process's consumer name, unique per process and start (the pipeline's `consumerName()`). */
  consumer: string;
  /** This host's hub: it seals the counters' entries, and shows only the ones it sealed. */
  hub: OverlayHub;
  /** Shortest time between two publications. Default 250 ms. */
  intervalMs?: number;
  /** How long one bus read waits. Default 1000 ms. */
  blockMs?: number;
}

/** The counters of a running host. */
export interface HostCounters {
  readonly state: Readonly<StreamCountersState>;
  /** Stops reading and deletes the group. */
  close(): Promise<void>;
}

/**
 * Starts tallying `events` into `host/counters`; resolves once the group exists, with the empty
 * state published. Like the live feed, every host has a group of its own from the stream's end
 * (each host's widgets show the counts its hub sealed).
 */
export async function startCounters(options: CountersOptions): Promise<HostCounters> {
  const { bus, log, hub } = options;
  const group = `${COUNTERS_GROUP_PREFIX}${options.consumer}`;
  const counters = new StreamCounters({
    intervalMs: options.intervalMs ?? PROTOCOL_DEFAULTS.countersIntervalMs,
    publish: (state) => {
      const entry = hub.sealHostEntry({ pluginId: HOST_PUBLISHER, channel: COUNTERS_CHANNEL_NAME, kind: 'state' as const, data: state, at: new Date().toISOString() });
      bus.publish('overlay', entry).catch((error: unknown) => log.error({ err: errorSummary(error) }, 'counters: publishing the state failed'));
    },
  });
  const consumer = bus.consume({
    stream: 'events',
    group,
    consumer: options.consumer,
    stage: 'counters',
    startAt: 'end',
    batchSize: 500,
    blockMs: options.blockMs,
    handler: async (entries) => counters.observe(entries.map((entry) => entry.payload)),
    onError: (error) => log.error({ err: errorSummary(error) }, 'counters: reading the events stream failed'),
  });
  await consumer.ready();
  // Counters widgets get the empty state rather than nothing until the first event.
  counters.flush();
  return {
    get state() {
      return counters.state;
    },
    async close() {
      counters.close();
      await consumer.stop();
      // The group was this host's alone; a host that crashed leaves its group behind (it costs little).
      await bus.deleteGroup('events', group).catch((error: unknown) => log.warn({ err: errorSummary(error) }, 'counters group not deleted'));
    },
  };
}
