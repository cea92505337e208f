/**
 * The event bus: named streams with consumer groups, at-least-once delivery and a
 * dead-letter stream. Two implementations keep the same semantics: in-process
 * (embedded default) and Redis Streams (production, D-002, D-012).
 */

import type { DeadLetter, StreamPayload } from './stream-contracts.ts';

export type { DeadLetter, OverlayMessage, StreamPayload, StreamPayloads } from './stream-contracts.ts';

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

export interface ConsumerOptions<S extends StreamName> {
  stream: S;
  /** Consumer group; created (from the start of the stream) when missing. */
  group: string;
  /** This consumer's name, unique per process. */
  consumer: string;
  /** Named in dead letters this consumer writes. */
  stage: string;
  /**
   * Handles a batch in stream order, entries that keep to the stream's contract only (the
   * others are dead-lettered). Resolving acknowledges every entry of the batch; throwing
   * acknowledges none: they are delivered again later.
   */
  handler: (entries: BusEntry<StreamPayload<S>>[]) => Promise<void>;
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
  onError?: (error: unknown, entries: BusEntry<StreamPayload<S>>[]) => void;
  /** Hears of every entry this consumer sent to the dead-letter stream (for metrics). */
  onDeadLettered?: (letter: DeadLetter) => void;
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
  publish<S extends StreamName>(stream: S, payload: StreamPayload<S>): Promise<string>;
  /** Appends entries in order, in one round trip; returns their ids. */
  publishMany<S extends StreamName>(stream: S, payloads: StreamPayload<S>[]): Promise<string[]>;
  /** Starts a consumer in a group. */
  consume<S extends StreamName>(options: ConsumerOptions<S>): Consumer;
  /**
   * True once every entry of `stream` up to and including `id` has been delivered to
   * `group` and acknowledged (so its side effects are done).
   */
  processed(stream: StreamName, group: string, id: string): Promise<boolean>;
  /**
   * Entries of `stream` that `group` has yet to finish: delivered but not acknowledged, or not
   * delivered yet (entries trimmed away uncounted). 0 for a group that does not exist.
   */
  backlog(stream: StreamName, group: string): Promise<number>;
  /** Id of the newest entry ever added to the stream, or undefined for an empty one. */
  lastId(stream: StreamName): Promise<string | undefined>;
  /** Removes a consumer group (one that was only this process's, when it stops); nothing when missing. */
  deleteGroup(stream: StreamName, group: string): Promise<void>;
  /** Entries in id order from `start` (inclusive, default the beginning), as written, contract or not: for inspection and tests. */
  range<T = unknown>(stream: StreamName, options?: { start?: string; count?: number }): Promise<Array<{ id: string; payload: T }>>;
  /** Entries currently in the stream. */
  length(stream: StreamName): Promise<number>;
  /** Stops all consumers and releases connections. */
  close(): Promise<void>;
}
