/**
 * The bus on Redis Streams (D-002, D-012): XADD with approximate MAXLEN, consumer groups read
 * with XREADGROUP on one dedicated connection per consumer, XAUTOCLAIM for entries left behind.
 */
import { Redis } from 'ioredis';
import { messageOf } from '@ttlp/sdk';
import { RunningConsumers, startConsumerLoop, type Delivery, type GroupReader } from './consumer-loop.ts';
import { DEFAULT_MAX_LEN, STREAM_START, compareStreamIds, encodePayload } from './streams.ts';
import type { Consumer, ConsumerOptions, EventBus, StreamName, StreamPayload } from './types.ts';

export interface RedisBusOptions {
  url: string;
  /** Prepended to stream names to make keys. Default `ttlp:`. */
  prefix?: string;
  /** Entries each stream keeps, approximately (`MAXLEN ~`). Default 1 000 000. */
  maxLen?: number;
  /** Per-stream exceptions to `maxLen`. */
  streamMaxLen?: Partial<Record<StreamName, number>>;
  /** Client name (CLIENT SETNAME) of every connection the bus opens, to find them in CLIENT LIST. */
  connectionName?: string;
  /** Connection-level errors; ioredis reconnects by itself and failed commands reject anyway. */
  onConnectionError?: (error: Error) => void;
}

/** The field of a stream entry that holds the payload's JSON text. */
const PAYLOAD_FIELD = 'p';

type RawEntry = [id: string, fields: string[] | null];

function isMissingKey(error: unknown): boolean {
  return /no such key/i.test(messageOf(error));
}

/** A flat `[name, value, …]` reply (XINFO) as a record. */
/** Most entries `backlog` counts one by one; a group further behind is reported this far behind. */
const BACKLOG_COUNT_LIMIT = 100_000;

function fieldsOf(reply: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (!Array.isArray(reply)) return fields;
  for (let index = 0; index + 1 < reply.length; index += 2) fields[String(reply[index])] = reply[index + 1];
  return fields;
}

function payloadText(fields: string[]): string {
  for (let index = 0; index + 1 < fields.length; index += 2) if (fields[index] === PAYLOAD_FIELD) return fields[index + 1] as string;
  return '';
}

function parseEntries(entries: RawEntry[]): Array<{ id: string; text: string | null }> {
  return entries.map(([id, fields]) => ({ id, text: fields === null ? null : payloadText(fields) }));
}

/** Entries of the one stream an XREADGROUP asked for; the reply is null when none came. */
function readReplyEntries(reply: unknown): Array<{ id: string; text: string | null }> {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const [, entries] = reply[0] as [string, RawEntry[]];
  return parseEntries(entries);
}

/** QUIT when connected, so replies in flight arrive; a connection that is down is just dropped. */
async function release(connection: Redis): Promise<void> {
  if (connection.status !== 'ready') return connection.disconnect();
  await connection.quit().catch(() => connection.disconnect());
}

class RedisGroupReader implements GroupReader {
  private claimCursor = STREAM_START;
  private readonly inFlight = new Set<(error: Error) => void>();

  constructor(
    private readonly connection: Redis,
    private readonly key: string,
    private readonly group: string,
    private readonly consumer: string,
    private readonly startAt: 'beginning' | 'end' = 'beginning',
  ) {}

  async ensureGroup(): Promise<void> {
    try {
      await this.command(this.connection.xgroup('CREATE', this.key, this.group, this.startAt === 'end' ? '$' : '0', 'MKSTREAM'));
    } catch (error) {
      if (!messageOf(error).startsWith('BUSYGROUP')) throw error;
    }
  }

  async readPending(count: number): Promise<Delivery[]> {
    const reply = await this.command(this.connection.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'STREAMS', this.key, '0'));
    return this.withDeliveries(readReplyEntries(reply));
  }

  async readNew(count: number, blockMs: number): Promise<Delivery[]> {
    const reply = await this.command(
      this.connection.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.key, '>'),
    );
    return readReplyEntries(reply).map((entry) => ({ ...entry, deliveries: 1 }));
  }

  async claimIdle(minIdleMs: number, count: number): Promise<{ claimed: Delivery[]; wrapped: boolean }> {
    const reply = await this.command(
      this.connection.xautoclaim(this.key, this.group, this.consumer, Math.round(minIdleMs), this.claimCursor, 'COUNT', count),
    );
    const [cursor, entries] = reply as [string, RawEntry[]];
    this.claimCursor = cursor;
    return { claimed: await this.withDeliveries(parseEntries(entries)), wrapped: cursor === STREAM_START };
  }

  async ack(ids: string[]): Promise<void> {
    await this.command(this.connection.xack(this.key, this.group, ...ids));
  }

  interrupt(): void {
    for (const abandon of this.inFlight) abandon(new Error('consumer stopped'));
    this.connection.disconnect();
  }

  async close(): Promise<void> {
    await release(this.connection);
  }

  /** XREADGROUP and XAUTOCLAIM count deliveries but do not return the count: XPENDING per id, one round trip. */
  private async withDeliveries(entries: Array<{ id: string; text: string | null }>): Promise<Delivery[]> {
    if (entries.length === 0) return [];
    const pipeline = this.connection.pipeline();
    for (const { id } of entries) pipeline.xpending(this.key, this.group, id, id, 1);
    const results = (await this.command(pipeline.exec())) ?? [];
    return entries.map((entry, index) => {
      const [error, reply] = results[index] ?? [null, []];
      if (error) throw error;
      const [pending] = reply as Array<[id: string, consumer: string, idleMs: number, deliveries: number]>;
      return { ...entry, deliveries: pending ? Number(pending[3]) : 1 };
    });
  }

  /**
   * Fails a command when its connection drops (such commands are not resent: the loop
   * re-reads its pending entries instead) or the consumer stops; either way it would
   * otherwise never settle.
   */
  private command<R>(reply: Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const settle = (finish: () => void) => {
        this.inFlight.delete(abandon);
        this.connection.off('close', dropped);
        finish();
      };
      const abandon = (error: Error) => settle(() => reject(error));
      const dropped = () => abandon(new Error('connection to Redis lost during a consumer command'));
      this.inFlight.add(abandon);
      this.connection.once('close', dropped);
      reply.then(
        (value) => settle(() => resolve(value)),
        (error: unknown) => settle(() => reject(error)),
      );
    });
  }
}

export class RedisBus implements EventBus {
  readonly kind = 'redis';
  private readonly client: Redis;
  private readonly prefix: string;
  private readonly maxLen: number;
  private readonly streamMaxLen: Partial<Record<StreamName, number>>;
  private readonly onConnectionError: (error: Error) => void;
  private readonly consumers = new RunningConsumers();
  private closing = false;

  constructor(options: RedisBusOptions) {
    this.prefix = options.prefix ?? 'ttlp:';
    this.maxLen = options.maxLen ?? DEFAULT_MAX_LEN;
    this.streamMaxLen = options.streamMaxLen ?? {};
    this.onConnectionError = options.onConnectionError ?? (() => undefined);
    this.client = new Redis(options.url, { connectionName: options.connectionName });
    this.client.on('error', this.onConnectionError);
  }

  async publish<S extends StreamName>(stream: S, payload: StreamPayload<S>): Promise<string> {
    const [id] = await this.publishMany(stream, [payload]);
    return id as string;
  }

  async publishMany<S extends StreamName>(stream: S, payloads: StreamPayload<S>[]): Promise<string[]> {
    const texts = payloads.map(encodePayload);
    if (texts.length === 0) return [];
    const transaction = this.client.multi();
    const maxLen = this.streamMaxLen[stream] ?? this.maxLen;
    for (const text of texts) transaction.xadd(this.key(stream), 'MAXLEN', '~', maxLen, '*', PAYLOAD_FIELD, text);
    const results = await transaction.exec();
    if (!results) throw new Error(`XADD to ${this.key(stream)} was aborted`);
    return results.map(([error, id]) => {
      if (error) throw error;
      return id as string;
    });
  }

  consume<S extends StreamName>(options: ConsumerOptions<S>): Consumer {
    if (this.closing) throw new Error('the bus is closed');
    // Blocking reads hold their connection, and a read lost with its connection must not be
    // resent blindly: the loop re-reads its pending entries instead.
    const connection = this.client.duplicate({ autoResendUnfulfilledCommands: false });
    connection.on('error', this.onConnectionError);
    const reader = new RedisGroupReader(connection, this.key(options.stream), options.group, options.consumer, options.startAt);
    return this.consumers.add(startConsumerLoop(options, reader, (letter) => this.publish('dlq', letter)));
  }

  async processed(stream: StreamName, group: string, id: string): Promise<boolean> {
    const key = this.key(stream);
    let groups: unknown;
    try {
      groups = await this.client.xinfo('GROUPS', key);
    } catch (error) {
      if (isMissingKey(error)) return false;
      throw error;
    }
    const state = (groups as unknown[]).map(fieldsOf).find((fields) => fields.name === group);
    if (!state || compareStreamIds(String(state['last-delivered-id']), id) < 0) return false;
    // Everything up to `id` was delivered before this check, so an empty pending range means acked.
    const pending = await this.client.xpending(key, group, '-', id, 1);
    return pending.length === 0;
  }

  async backlog(stream: StreamName, group: string): Promise<number> {
    const key = this.key(stream);
    let groups: unknown;
    try {
      groups = await this.client.xinfo('GROUPS', key);
    } catch (error) {
      if (isMissingKey(error)) return 0;
      throw error;
    }
    const state = (groups as unknown[]).map(fieldsOf).find((fields) => fields.name === group);
    if (!state) return 0;
    const pending = Number(state.pending);
    if (state.lag !== null && state.lag !== undefined) return pending + Number(state.lag);
    // Redis cannot tell the lag once entries were trimmed in between (it answers nil): count them, up to a bound.
    const after = (await this.client.xrange(key, `(${String(state['last-delivered-id'])}`, '+', 'COUNT', BACKLOG_COUNT_LIMIT)) as RawEntry[];
    return pending + after.length;
  }

  async deleteGroup(stream: StreamName, group: string): Promise<void> {
    try {
      await this.client.xgroup('DESTROY', this.key(stream), group);
    } catch (error) {
      // A stream that does not exist has no groups.
      if (!isMissingKey(error) && !/requires the key to exist/i.test(messageOf(error))) throw error;
    }
  }

  async lastId(stream: StreamName): Promise<string | undefined> {
    try {
      const last = String(fieldsOf(await this.client.xinfo('STREAM', this.key(stream)))['last-generated-id']);
      return last === STREAM_START ? undefined : last;
    } catch (error) {
      if (isMissingKey(error)) return undefined;
      throw error;
    }
  }

  async range<T = unknown>(stream: StreamName, options: { start?: string; count?: number } = {}): Promise<Array<{ id: string; payload: T }>> {
    const key = this.key(stream);
    const start = options.start ?? '-';
    const entries = (
      options.count === undefined ? await this.client.xrange(key, start, '+') : await this.client.xrange(key, start, '+', 'COUNT', options.count)
    ) as RawEntry[];
    return parseEntries(entries).map(({ id, text }) => ({ id, payload: JSON.parse(text ?? 'null') as T }));
  }

  async length(stream: StreamName): Promise<number> {
    return this.client.xlen(this.key(stream));
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.consumers.stopAll();
    await release(this.client);
  }

  private key(stream: StreamName): string {
    return `${this.prefix}${stream}`;
  }
}
