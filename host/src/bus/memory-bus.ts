/**
 * The embedded bus: Redis Streams semantics (ids, consumer groups, pending lists, claims,
 * trimming) kept in this process, for a host that runs without Redis.
 */
import { RunningConsumers, startConsumerLoop, type Delivery, type GroupReader } from './consumer-loop.ts';
import {
  DEFAULT_MAX_LEN,
  STREAM_START,
  comparePositions,
  encodePayload,
  formatStreamId,
  nextPosition,
  parseStreamId,
  type StreamPosition,
} from './streams.ts';
import type { Consumer, ConsumerOptions, EventBus, StreamName, StreamPayload } from './types.ts';

export interface MemoryBusOptions {
  /** Entries each stream keeps, approximately. Default 1 000 000. */
  maxLen?: number;
  /** Per-stream exceptions to `maxLen`. */
  streamMaxLen?: Partial<Record<StreamName, number>>;
}

/** Like Redis' `MAXLEN ~`: a full stream is trimmed in chunks, not shifted on every append. */
const TRIM_SLACK = 100;
/** As XAUTOCLAIM, one claim looks at no more than COUNT × 10 pending entries. */
const CLAIM_SCAN_FACTOR = 10;

interface StoredEntry {
  id: string;
  position: StreamPosition;
  text: string;
}

interface PendingEntry {
  position: StreamPosition;
  consumer: string;
  deliveries: number;
  deliveredAt: number;
}

interface GroupState {
  lastDelivered: StreamPosition;
  /** In id order: entries join at the end (each read is past lastDelivered) and claims only change owners. */
  pending: Map<string, PendingEntry>;
}

class MemoryStream {
  readonly entries: StoredEntry[] = [];
  readonly groups = new Map<string, GroupState>();
  last: StreamPosition = parseStreamId(STREAM_START);
  private readonly appendListeners = new Set<() => void>();

  append(texts: string[], maxLen: number): string[] {
    const ids = texts.map((text) => {
      this.last = nextPosition(this.last, Date.now());
      const id = formatStreamId(this.last);
      this.entries.push({ id, position: this.last, text });
      return id;
    });
    if (this.entries.length > maxLen + TRIM_SLACK) this.entries.splice(0, this.entries.length - maxLen);
    for (const listener of [...this.appendListeners]) listener();
    return ids;
  }

  /** Index of the first entry at or after `position` (`inclusive`), or strictly after it. */
  indexOf(position: StreamPosition, inclusive: boolean): number {
    let [low, high] = [0, this.entries.length];
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = comparePositions((this.entries[middle] as StoredEntry).position, position);
      if (order < 0 || (order === 0 && !inclusive)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  find(position: StreamPosition): StoredEntry | undefined {
    const entry = this.entries[this.indexOf(position, true)];
    return entry && comparePositions(entry.position, position) === 0 ? entry : undefined;
  }

  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }
}

class MemoryGroupReader implements GroupReader {
  private claimCursor = parseStreamId(STREAM_START);
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: MemoryStream,
    private readonly groupName: string,
    private readonly consumer: string,
    private readonly startAt: 'beginning' | 'end' = 'beginning',
  ) {}

  async ensureGroup(): Promise<void> {
    if (!this.stream.groups.has(this.groupName)) {
      const lastDelivered = this.startAt === 'end' ? this.stream.last : parseStreamId(STREAM_START);
      this.stream.groups.set(this.groupName, { lastDelivered, pending: new Map() });
    }
  }

  async readPending(count: number): Promise<Delivery[]> {
    const now = Date.now();
    const out: Delivery[] = [];
    for (const [id, pending] of this.group().pending) {
      if (out.length === count) break;
      if (pending.consumer !== this.consumer) continue;
      pending.deliveries += 1;
      pending.deliveredAt = now;
      out.push({ id, text: this.stream.find(pending.position)?.text ?? null, deliveries: pending.deliveries });
    }
    return out;
  }

  async readNew(count: number, blockMs: number): Promise<Delivery[]> {
    // Like a network read, every read gives the event loop a turn: a busy consumer must not starve timers and I/O.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const deadline = Date.now() + blockMs;
    for (;;) {
      const batch = this.takeNew(count);
      const left = deadline - Date.now();
      if (batch.length > 0 || left <= 0) return batch;
      if ((await this.waitForAppend(left)) !== 'appended') return [];
    }
  }

  async claimIdle(minIdleMs: number, count: number): Promise<{ claimed: Delivery[]; wrapped: boolean }> {
    const group = this.group();
    const now = Date.now();
    const claimed: Delivery[] = [];
    let scanned = 0;
    let next = parseStreamId(STREAM_START);
    for (const [id, pending] of group.pending) {
      if (comparePositions(pending.position, this.claimCursor) < 0) continue;
      if (claimed.length === count || scanned === count * CLAIM_SCAN_FACTOR) {
        next = pending.position;
        break;
      }
      scanned += 1;
      if (now - pending.deliveredAt < minIdleMs) continue;
      const entry = this.stream.find(pending.position);
      if (!entry) {
        // Trimmed away: nothing left to deliver, and XAUTOCLAIM drops such ids too.
        group.pending.delete(id);
        continue;
      }
      Object.assign(pending, { consumer: this.consumer, deliveries: pending.deliveries + 1, deliveredAt: now });
      claimed.push({ id, text: entry.text, deliveries: pending.deliveries });
    }
    this.claimCursor = next;
    return { claimed, wrapped: comparePositions(next, parseStreamId(STREAM_START)) === 0 };
  }

  async ack(ids: string[]): Promise<void> {
    const group = this.group();
    for (const id of ids) group.pending.delete(id);
  }

  interrupt(): void {
    this.wake?.();
  }

  async close(): Promise<void> {
    this.interrupt();
  }

  private group(): GroupState {
    const group = this.stream.groups.get(this.groupName);
    if (!group) throw new Error(`NOGROUP no consumer group ${this.groupName}`);
    return group;
  }

  private takeNew(count: number): Delivery[] {
    const group = this.group();
    const start = this.stream.indexOf(group.lastDelivered, false);
    const batch = this.stream.entries.slice(start, start + count);
    const now = Date.now();
    for (const entry of batch) {
      group.pending.set(entry.id, { position: entry.position, consumer: this.consumer, deliveries: 1, deliveredAt: now });
      group.lastDelivered = entry.position;
    }
    return batch.map((entry) => ({ id: entry.id, text: entry.text, deliveries: 1 }));
  }

  private waitForAppend(ms: number): Promise<'appended' | 'timeout' | 'interrupted'> {
    return new Promise((resolve) => {
      const finish = (outcome: 'appended' | 'timeout' | 'interrupted') => {
        clearTimeout(timer);
        stopListening();
        this.wake = undefined;
        resolve(outcome);
      };
      const timer = setTimeout(() => finish('timeout'), ms);
      const stopListening = this.stream.onAppend(() => finish('appended'));
      this.wake = () => finish('interrupted');
    });
  }
}

export class MemoryBus implements EventBus {
  readonly kind = 'memory';
  private readonly maxLen: number;
  private readonly streamMaxLen: Partial<Record<StreamName, number>>;
  private readonly streams = new Map<StreamName, MemoryStream>();
  private readonly consumers = new RunningConsumers();
  /** Consumers stopping while the bus closes may still write dead letters. */
  private lifecycle: 'open' | 'closing' | 'closed' = 'open';

  constructor(options: MemoryBusOptions = {}) {
    this.maxLen = options.maxLen ?? DEFAULT_MAX_LEN;
    this.streamMaxLen = options.streamMaxLen ?? {};
  }

  async publish<S extends StreamName>(stream: S, payload: StreamPayload<S>): Promise<string> {
    const [id] = await this.publishMany(stream, [payload]);
    return id as string;
  }

  async publishMany<S extends StreamName>(stream: S, payloads: StreamPayload<S>[]): Promise<string[]> {
    if (this.lifecycle === 'closed') throw new Error('the bus is closed');
    const texts = payloads.map(encodePayload);
    return this.streamOf(stream).append(texts, this.streamMaxLen[stream] ?? this.maxLen);
  }

  consume<S extends StreamName>(options: ConsumerOptions<S>): Consumer {
    if (this.lifecycle !== 'open') throw new Error('the bus is closed');
    const reader = new MemoryGroupReader(this.streamOf(options.stream), options.group, options.consumer, options.startAt);
    return this.consumers.add(startConsumerLoop(options, reader, (letter) => this.publish('dlq', letter)));
  }

  async processed(stream: StreamName, group: string, id: string): Promise<boolean> {
    const state = this.streams.get(stream)?.groups.get(group);
    if (!state) return false;
    const target = parseStreamId(id);
    if (comparePositions(state.lastDelivered, target) < 0) return false;
    const oldestPending = state.pending.values().next();
    return oldestPending.done || comparePositions(oldestPending.value.position, target) > 0;
  }

  async backlog(stream: StreamName, group: string): Promise<number> {
    const state = this.streams.get(stream);
    const groupState = state?.groups.get(group);
    if (!state || !groupState) return 0;
    return state.entries.length - state.indexOf(groupState.lastDelivered, false) + groupState.pending.size;
  }

  async deleteGroup(stream: StreamName, group: string): Promise<void> {
    this.streams.get(stream)?.groups.delete(group);
  }

  async lastId(stream: StreamName): Promise<string | undefined> {
    const last = this.streams.get(stream)?.last;
    return last && formatStreamId(last) !== STREAM_START ? formatStreamId(last) : undefined;
  }

  async range<T = unknown>(stream: StreamName, options: { start?: string; count?: number } = {}): Promise<Array<{ id: string; payload: T }>> {
    const state = this.streams.get(stream);
    if (!state) return [];
    const from = options.start === undefined ? 0 : state.indexOf(parseStreamId(options.start), true);
    const to = options.count === undefined ? undefined : from + options.count;
    return state.entries.slice(from, to).map((entry) => ({ id: entry.id, payload: JSON.parse(entry.text) as T }));
  }

  async length(stream: StreamName): Promise<number> {
    return this.streams.get(stream)?.entries.length ?? 0;
  }

  async close(): Promise<void> {
    this.lifecycle = 'closing';
    await this.consumers.stopAll();
    this.lifecycle = 'closed';
  }

  private streamOf(name: StreamName): MemoryStream {
    let stream = this.streams.get(name);
    if (!stream) this.streams.set(name, (stream = new MemoryStream()));
    return stream;
  }
}
