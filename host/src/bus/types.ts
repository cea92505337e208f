/**
 * The event bus: named streams with consumer groups, at-least-once delivery and a
 * dead-letter stream. Two implementations keep the same semantics: in-process
 * (embedded default) and Redis Streams (production, D-002, D-012).
 */

export const STREAMS = ['raw', 'events', 'overlay', 'dlq'] as const;
export type StreamName = (typeof STREAMS)[number];

export interface BusEntry<T = unknown> {
  /** Stream entry id, `<ms>-<seq>` as in Redis; ids grow within a stream. */
  id: string;
  stream: StreamName;
  payload: T;
  /** How often this entry has been handed to a consumer of the group, this time included. */
  deliveries: number;
  /** Length of the payload's JSON text, as it travelled on the bus. */
  size: number;
  /** The payload's JSON text, as it travelled on the bus (a consumer that passes it on need not serialize again). */
  text: string;
}

/** What lands on the `dlq` stream. */
export interface DeadLetter {
  /** Pipeline stage that gave up (`normalize`, `store`, …). */
  stage: string;
  /** Stable code: a normalizer rejection code, `MAX_DELIVERIES`, … */
  reason: string;
  /** Human-readable detail, never a stack. */
  error: string;
  /** The entry's payload as it was. */
  payload: unknown;
  failedAt: string;
  /** Where the entry came from, when it came from a stream. */
  source?: { stream: StreamName; id: string; deliveries: number };
}

export interface ConsumerOptions<T> {
  stream: StreamName;
  /** Consumer group; created (from the start of the stream) when missing. */
  group: string;
  /** This consumer's name, unique per process. */
  consumer: string;
  /** Named in dead letters this consumer writes. */
  stage: string;
  /**
   * Handles a batch in stream order. Resolving acknowledges every entry of the batch;
   * throwing acknowledges none: they are delivered again later.
   */
  handler: (entries: BusEntry<T>[]) => Promise<void>;
  /** Most entries per handler call. Default 100. */
  batchSize?: number;
  /** How long one read waits for new entries. Default 1000 ms. */
  blockMs?: number;
  /** An entry delivered more often than this goes to the dead-letter stream. Default 5. */
  maxDeliveries?: number;
  /** Pending entries idle this long (their consumer died or is stuck) are claimed. Default 30000 ms. */
  claimIdleMs?: number;
  /** Pause after a failed handler before the next attempt. Default 250 ms. */
  retryDelayMs?: number;
  /**
   * Where the group starts when this consumer creates it: at the stream's first entry (default),
   * or after its last one, for consumers that only care about what is published from now on.
   */
  startAt?: 'beginning' | 'end';
  /** Called when a handler fails (for logs and metrics); the entries stay pending. */
  onError?: (error: unknown, entries: BusEntry<T>[]) => void;
}

export interface Consumer {
  /** Resolves once the consumer's group exists (entries published from then on reach it), or it stopped. */
  ready(): Promise<void>;
  /** Stops reading; resolves once the batch in hand (if any) is handled or released. */
  stop(): Promise<void>;
}

export interface EventBus {
  readonly kind: 'memory' | 'redis';
  /** Appends one entry; returns its id. */
  publish<T>(stream: StreamName, payload: T): Promise<string>;
  /** Appends entries in order, in one round trip; returns their ids. */
  publishMany<T>(stream: StreamName, payloads: T[]): Promise<string[]>;
  /** Starts a consumer in a group. */
  consume<T>(options: ConsumerOptions<T>): Consumer;
  /**
   * True once every entry of `stream` up to and including `id` has been delivered to
   * `group` and acknowledged (so its side effects are done).
   */
  processed(stream: StreamName, group: string, id: string): Promise<boolean>;
  /** Id of the newest entry ever added to the stream, or undefined for an empty one. */
  lastId(stream: StreamName): Promise<string | undefined>;
  /** Removes a consumer group (one that was only this process's, when it stops); nothing when missing. */
  deleteGroup(stream: StreamName, group: string): Promise<void>;
  /** Entries in id order from `start` (inclusive, default the beginning): for inspection and tests. */
  range<T = unknown>(stream: StreamName, options?: { start?: string; count?: number }): Promise<Array<{ id: string; payload: T }>>;
  /** Entries currently in the stream. */
  length(stream: StreamName): Promise<number>;
  /** Stops all consumers and releases connections. */
  close(): Promise<void>;
}
