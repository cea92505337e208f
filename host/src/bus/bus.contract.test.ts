import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBus } from './memory-bus.ts';
import { RedisBus } from './redis-bus.ts';
import { compareStreamIds } from './streams.ts';
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import { STREAMS, type BusEntry, type ConsumerOptions, type DeadLetter, type EventBus, type StreamName } from './types.ts';
import { entryOf, numbered, publishForged } from '../../test/support/bus-entries.ts';
import { TEST_TIMEOUT_MS, waitFor } from '../../test/support/patience.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Small timings so claims, retries and reads happen within a test's patience. */
const FAST = { blockMs: 50, claimIdleMs: 200, retryDelayMs: 20 } as const;

interface TestScope {
  /** Key prefix of this test, `ttlp-test-<random>:`. */
  prefix: string;
  /** Client name of this test's Redis connections. */
  connectionName: string;
}

interface BusHarness {
  kind: 'memory' | 'redis';
  setup(): Promise<void>;
  open(scope: TestScope, options: { maxLen?: number; streamMaxLen?: Partial<Record<StreamName, number>> }): EventBus;
  cleanup(scope: TestScope): Promise<void>;
  teardown(): Promise<void>;
}

let admin: Redis | undefined;

function redisAdmin(): Redis {
  if (!admin) throw new Error(`no admin connection to ${REDIS_URL}`);
  return admin;
}

const memoryHarness: BusHarness = {
  kind: 'memory',
  setup: async () => undefined,
  open: (_scope, options) => new MemoryBus(options),
  cleanup: async () => undefined,
  teardown: async () => undefined,
};

const redisHarness: BusHarness = {
  kind: 'redis',
  // Connects once and fails the suite when Redis is unreachable: these tests must not be skipped.
  async setup() {
    admin = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: () => null });
    admin.on('error', () => undefined);
    try {
      await admin.connect();
    } catch (error) {
      throw new Error(`Redis at ${REDIS_URL} is unreachable (set TEST_REDIS_URL): ${error instanceof Error ? error.message : String(error)}`);
    }
  },
  open: (scope, options) => new RedisBus({ url: REDIS_URL, prefix: scope.prefix, connectionName: scope.connectionName, ...options }),
  async cleanup(scope) {
    const redis = redisAdmin();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${scope.prefix}*`, 'COUNT', 100);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  },
  async teardown() {
    if (admin?.status === 'ready') await admin.quit();
    else admin?.disconnect();
    admin = undefined;
  },
};


/** A promise a test resolves by hand; every gate is opened after each test, so no handler hangs past it. */
const gates: Array<() => void> = [];
function gate(): { open: () => void; opened: Promise<void> } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  gates.push(open);
  return { open, opened };
}

function newScope(): TestScope {
  const name = `ttlp-test-${randomBytes(6).toString('hex')}`;
  return { prefix: `${name}:`, connectionName: name };
}

function recorder<T>(): { seen: BusEntry<T>[]; handler: (entries: BusEntry<T>[]) => Promise<void> } {
  const seen: BusEntry<T>[] = [];
  return { seen, handler: async (entries) => void seen.push(...entries) };
}

function lastOf(ids: string[]): string {
  const id = ids.at(-1);
  if (id === undefined) throw new Error('no ids');
  return id;
}

describe.each([memoryHarness, redisHarness])('$kind bus', (harness) => {
  let scope: TestScope;
  const opened: EventBus[] = [];

  function open(options: { maxLen?: number; streamMaxLen?: Partial<Record<StreamName, number>> } = {}): EventBus {
    const bus = harness.open(scope, options);
    opened.push(bus);
    return bus;
  }

  function consumerOptions(overrides: Partial<ConsumerOptions<'events'>> & Pick<ConsumerOptions<'events'>, 'handler'>): ConsumerOptions<'events'> {
    return { stream: 'events', group: 'store', consumer: 'c1', stage: 'store', ...FAST, ...overrides };
  }

  beforeAll(() => harness.setup());
  afterAll(() => harness.teardown());
  beforeEach(() => {
    scope = newScope();
  });
  afterEach(async () => {
    for (const open of gates.splice(0)) open();
    await Promise.all(opened.splice(0).map((bus) => bus.close()));
    await harness.cleanup(scope);
  });

  it('publishes with increasing ids and returns payloads in order', async () => {
    const bus = open();
    const first = await bus.publish('raw', { ...entryOf('raw', 0), data: { at: new Date(0), tags: ['a', null, true] } });
    const rest = await bus.publishMany('raw', numbered('raw', 1, 3));
    const ids = [first, ...rest];
    for (const id of ids) expect(id).toMatch(/^\d+-\d+$/);
    for (let index = 1; index < ids.length; index++) expect(compareStreamIds(ids[index - 1] as string, ids[index] as string)).toBeLessThan(0);

    const entries = await bus.range('raw');
    expect(entries.map((entry) => entry.id)).toEqual(ids);
    // Payloads travel as JSON on both buses: a Date comes back as its ISO text.
    expect(entries[0]?.payload).toEqual({ ...entryOf('raw', 0), data: { at: '1970-01-01T00:00:00.000Z', tags: ['a', null, true] } });
    expect(entries.slice(1).map((entry) => entry.payload)).toEqual(numbered('raw', 1, 3));
    expect(await bus.range('raw', { start: ids[1], count: 2 })).toEqual([
      { id: ids[1], payload: entryOf('raw', 1) },
      { id: ids[2], payload: entryOf('raw', 2) },
    ]);
    expect(await bus.publishMany('raw', [])).toEqual([]);
  });

  it('reports lastId and length', async () => {
    const bus = open();
    expect(await bus.lastId('events')).toBeUndefined();
    expect(await bus.length('events')).toBe(0);
    const ids = await bus.publishMany('events', numbered('events', 0, 3));
    expect(await bus.lastId('events')).toBe(ids[2]);
    expect(await bus.length('events')).toBe(3);
    expect(await bus.length('raw')).toBe(0);
  });

  it('rejects payloads JSON cannot carry, and appends nothing of such a batch', async () => {
    const bus = open();
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    await expect(bus.publish('raw', { ...entryOf('raw', 0), data: { big: 10n } })).rejects.toThrow(TypeError);
    await expect(bus.publish('raw', { ...entryOf('raw', 0), data: circular })).rejects.toThrow(TypeError);
    await expect(publishForged(bus, 'raw', [undefined])).rejects.toThrow(TypeError);
    await expect(bus.publishMany('raw', [entryOf('raw', 0), { ...entryOf('raw', 1), data: { big: 1n } }])).rejects.toThrow(TypeError);
    expect(await bus.length('raw')).toBe(0);
  });

  it('keeps a stream near maxLen', async () => {
    const maxLen = 10;
    const bus = open({ maxLen });
    let ids: string[] = [];
    for (let chunk = 0; chunk < 6; chunk++) ids = await bus.publishMany('raw', numbered('raw', chunk * 50, 50));
    const length = await bus.length('raw');
    // Trimming is approximate (whole 100-entry nodes on Redis), but bounded.
    expect(length).toBeGreaterThanOrEqual(maxLen);
    expect(length).toBeLessThanOrEqual(maxLen + 100);
    expect(await bus.lastId('raw')).toBe(lastOf(ids));
    const kept = await bus.range('raw');
    expect(kept.at(-1)?.payload).toEqual(entryOf('raw', 299));
  });

  it('bounds a stream by its own maxLen when it has one', async () => {
    const bus = open({ maxLen: 1000, streamMaxLen: { overlay: 10 } });
    for (let chunk = 0; chunk < 6; chunk++) {
      await bus.publishMany('overlay', numbered('overlay', chunk * 50, 50));
      await bus.publishMany('raw', numbered('raw', chunk * 50, 50));
    }
    expect(await bus.length('overlay')).toBeLessThanOrEqual(10 + 100);
    expect(await bus.length('raw')).toBe(300);
  });

  it('hands a new group every entry in order, those published before it existed too', async () => {
    const bus = open();
    const early = await bus.publishMany('events', numbered('events', 0, 5));
    const { seen, handler } = recorder<UnifiedEvent>();
    bus.consume(consumerOptions({ handler, batchSize: 2 }));
    const late = await bus.publishMany('events', numbered('events', 5, 5));
    await waitFor(() => bus.processed('events', 'store', lastOf(late)), 'the group to process everything');
    expect(seen.map((entry) => entry.id)).toEqual([...early, ...late]);
    expect(seen.map((entry) => entry.payload)).toEqual(numbered('events', 0, 10));
    expect(seen.every((entry) => entry.deliveries === 1 && entry.stream === 'events')).toBe(true);
    expect(seen.map((entry) => entry.size)).toEqual(seen.map((entry) => JSON.stringify(entry.payload).length));
  });

  it('starts a group created with startAt "end" after the entries already published', async () => {
    const bus = open();
    const early = await bus.publishMany('events', numbered('events', 0, 3));
    const { seen, handler } = recorder<UnifiedEvent>();
    await bus.consume(consumerOptions({ handler, startAt: 'end' })).ready();
    expect(await bus.processed('events', 'store', lastOf(early))).toBe(true);
    const late = await bus.publishMany('events', numbered('events', 3, 2));
    await waitFor(() => bus.processed('events', 'store', lastOf(late)), 'the new entries');
    expect(seen.map((entry) => entry.payload)).toEqual(numbered('events', 3, 2));
  });

  it('gives each group every entry', async () => {
    const bus = open();
    const store = recorder<UnifiedEvent>();
    const overlay = recorder<UnifiedEvent>();
    bus.consume(consumerOptions({ group: 'store', handler: store.handler }));
    bus.consume(consumerOptions({ group: 'overlay', handler: overlay.handler }));
    const ids = await bus.publishMany('events', numbered('events', 0, 20));
    await waitFor(async () => (await bus.processed('events', 'store', lastOf(ids))) && bus.processed('events', 'overlay', lastOf(ids)), 'both groups');
    expect(store.seen.map((entry) => entry.id)).toEqual(ids);
    expect(overlay.seen.map((entry) => entry.id)).toEqual(ids);
  });

  it('splits a group between its consumers, no entry handled by both', async () => {
    const bus = open();
    const byConsumer = new Map<string, string[]>([['c1', []], ['c2', []]]);
    for (const consumer of byConsumer.keys())
      bus.consume(
        consumerOptions({
          consumer,
          batchSize: 5,
          handler: async (entries) => {
            byConsumer.get(consumer)?.push(...entries.map((entry) => entry.id));
            await delay(5);
          },
        }),
      );
    const ids: string[] = [];
    for (let chunk = 0; chunk < 3; chunk++) {
      ids.push(...(await bus.publishMany('events', numbered('events', chunk * 20, 20))));
      await delay(10);
    }
    await waitFor(() => bus.processed('events', 'store', lastOf(ids)), 'the group to process everything');
    const [c1, c2] = [byConsumer.get('c1') ?? [], byConsumer.get('c2') ?? []];
    expect(c1.length).toBeGreaterThan(0);
    expect(c2.length).toBeGreaterThan(0);
    expect(c1.filter((id) => c2.includes(id))).toEqual([]);
    expect([...c1, ...c2].sort(compareStreamIds)).toEqual(ids);
  });

  it('acknowledges only after the handler succeeded', async () => {
    const bus = open();
    const calls: Array<{ id: string; deliveries: number }> = [];
    const errors: Array<{ error: unknown; ids: string[] }> = [];
    let failures = 1;
    bus.consume(
      consumerOptions({
        handler: async (entries) => {
          calls.push(...entries.map(({ id, deliveries }) => ({ id, deliveries })));
          if (failures-- > 0) throw new Error('store is down');
        },
        onError: (error, entries) => errors.push({ error, ids: entries.map((entry) => entry.id) }),
      }),
    );
    const ids = await bus.publishMany('events', numbered('events', 0, 3));
    await waitFor(() => bus.processed('events', 'store', lastOf(ids)), 'the retried entries to be acked');
    for (const id of ids) expect(calls.filter((call) => call.id === id).map((call) => call.deliveries)).toEqual([1, 2]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.ids).toEqual(ids);
    expect((errors[0]?.error as Error).message).toBe('store is down');
    expect(await bus.length('dlq')).toBe(0);
  });

  it('dead-letters an entry that keeps failing, and keeps the others flowing', async () => {
    const bus = open();
    const handled: string[] = [];
    let poisonCalls = 0;
    const poisonEvent = entryOf('events', 1);
    bus.consume(
      consumerOptions({
        maxDeliveries: 3,
        handler: async (entries) => {
          if (entries.some((entry) => entry.payload.eventId === poisonEvent.eventId)) {
            poisonCalls += 1;
            throw new Error('cannot store poison');
          }
          handled.push(...entries.map((entry) => entry.id));
        },
      }),
    );
    const [before, poison, after] = (await bus.publishMany('events', [entryOf('events', 0), poisonEvent, entryOf('events', 2)])) as [string, string, string];
    await waitFor(async () => (await bus.length('dlq')) > 0, 'a dead letter');
    const later = await bus.publish('events', entryOf('events', 3));
    await waitFor(() => bus.processed('events', 'store', later), 'the entries after the dead letter');

    expect(handled).toEqual([before, after, later]);
    expect(poisonCalls).toBe(3);
    const letters = await bus.range<DeadLetter>('dlq');
    expect(letters).toHaveLength(1);
    expect(letters[0]?.payload).toEqual({
      stage: 'store',
      reason: 'MAX_DELIVERIES',
      error: 'cannot store poison',
      payload: poisonEvent,
      failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      source: { stream: 'events', id: poison, deliveries: 4 },
    });
    expect(await bus.processed('events', 'store', poison)).toBe(true);
  });

  it.each(STREAMS)('dead-letters an entry that breaks the %s contract with the stage, and never hands it over', async (stream) => {
    const bus = open();
    const seen: string[] = [];
    const heard: DeadLetter[] = [];
    bus.consume({
      stream,
      group: 'readers',
      consumer: 'c1',
      stage: `${stream}-reader`,
      ...FAST,
      handler: async (entries) => void seen.push(...entries.map((entry) => entry.id)),
      onDeadLettered: (letter) => heard.push(letter),
    });
    const forgeries = [{ forged: true }, 'text', { ...entryOf(stream, 1), at: 42, seqNo: 7, failedAt: 7 }];
    const ids = await publishForged(bus, stream, [entryOf(stream, 0), ...forgeries, entryOf(stream, 2)]);
    const [first, ...forged] = ids.slice(0, -1);
    const last = lastOf(ids);
    await waitFor(() => bus.processed(stream, 'readers', last), 'every entry to be settled');

    expect(seen.filter((id) => ids.includes(id))).toEqual([first, last]);
    const letters = (await bus.range<DeadLetter>('dlq')).map((entry) => entry.payload).filter((letter) => letter.reason === 'INVALID_ENTRY');
    expect(letters).toEqual(
      forgeries.map((payload, index) => ({
        stage: `${stream}-reader`,
        reason: 'INVALID_ENTRY',
        error: expect.stringMatching(new RegExp(`^breaks the ${stream} stream's contract: `)),
        payload,
        failedAt: expect.any(String),
        source: { stream, id: forged[index], deliveries: 1 },
      })),
    );
    expect(heard).toEqual(letters);
  });

  it('lets another consumer claim the entries of one that stopped answering', async () => {
    const bus = open();
    const release = gate();
    const held: string[] = [];
    bus.consume(
      consumerOptions({
        consumer: 'stuck',
        handler: async (entries) => {
          held.push(...entries.map((entry) => entry.id));
          await release.opened;
          throw new Error('gave up');
        },
      }),
    );
    const ids = await bus.publishMany('events', numbered('events', 0, 5));
    await waitFor(() => held.length === ids.length, 'the stuck consumer to hold the entries');
    const rescuer = recorder<UnifiedEvent>();
    bus.consume(consumerOptions({ consumer: 'rescuer', handler: rescuer.handler }));
    await waitFor(() => bus.processed('events', 'store', lastOf(ids)), 'the claimed entries to be handled');
    expect(rescuer.seen.map((entry) => entry.id)).toEqual(ids);
    expect(rescuer.seen.every((entry) => entry.deliveries === 2)).toBe(true);
  });

  it('tells whether everything up to an id is processed', async () => {
    const bus = open();
    const ids = (await bus.publishMany('events', numbered('events', 0, 3))) as [string, string, string];
    expect(await bus.processed('events', 'store', ids[0])).toBe(false);
    const second = gate();
    const started: string[] = [];
    bus.consume(
      consumerOptions({
        batchSize: 1,
        handler: async ([entry]) => {
          started.push(entry?.id ?? '');
          if (entry?.id === ids[1]) await second.opened;
        },
      }),
    );
    await waitFor(() => started.includes(ids[1]), 'the second entry to be in hand');
    await waitFor(() => bus.processed('events', 'store', ids[0]), 'the first entry to be acked');
    expect(await bus.processed('events', 'store', ids[1])).toBe(false);
    expect(await bus.processed('events', 'store', ids[2])).toBe(false);
    expect(await bus.processed('events', 'other-group', ids[0])).toBe(false);
    second.open();
    await waitFor(() => bus.processed('events', 'store', ids[2]), 'all three entries');
    expect(started).toEqual(ids);
  });

  it("counts a group's backlog: entries in hand and entries not yet read", async () => {
    const bus = open();
    const ids = (await bus.publishMany('events', numbered('events', 0, 4))) as [string, string, string, string];
    expect(await bus.backlog('events', 'store')).toBe(0);
    const second = gate();
    bus.consume(
      consumerOptions({
        batchSize: 1,
        handler: async ([entry]) => {
          if (entry?.id === ids[1]) await second.opened;
        },
      }),
    );
    await waitFor(() => bus.processed('events', 'store', ids[0]), 'the first entry to be acked');
    // The second is in hand, two more are waiting.
    expect(await bus.backlog('events', 'store')).toBe(3);
    second.open();
    await waitFor(() => bus.processed('events', 'store', ids[3]), 'all four entries');
    expect(await bus.backlog('events', 'store')).toBe(0);
  });

  it('deletes a consumer group', async () => {
    const bus = open();
    const [id] = (await bus.publishMany('events', numbered('events', 0, 1))) as [string];
    const consumer = bus.consume(consumerOptions({ handler: async () => undefined }));
    await waitFor(() => bus.processed('events', 'store', id), 'the entry to be acked');
    await consumer.stop();
    await bus.deleteGroup('events', 'store');
    expect(await bus.processed('events', 'store', id)).toBe(false);
    await bus.deleteGroup('events', 'store');
    await bus.deleteGroup('dlq', 'never-made');
  });

  it('stops after the handler in flight finished, and reads nothing more', async () => {
    const bus = open();
    const release = gate();
    const calls: string[] = [];
    let finished = false;
    const consumer = bus.consume(
      consumerOptions({
        handler: async (entries) => {
          calls.push(...entries.map((entry) => entry.id));
          await release.opened;
          finished = true;
        },
      }),
    );
    const id = await bus.publish('events', entryOf('events', 0));
    await waitFor(() => calls.length === 1, 'the entry to be in hand');
    let stopped = false;
    const stopping = consumer.stop().then(() => (stopped = true));
    await delay(50);
    expect(stopped).toBe(false);
    release.open();
    await stopping;
    expect(finished).toBe(true);
    expect(await bus.processed('events', 'store', id)).toBe(true);
    await bus.publish('events', entryOf('events', 1));
    await delay(100);
    expect(calls).toEqual([id]);
  });

  it('stops an idle consumer without waiting out its read', async () => {
    const bus = open();
    // A read longer than the test may take: a stop that waited it out would time the test out.
    const consumer = bus.consume(consumerOptions({ handler: async () => undefined, blockMs: 2 * TEST_TIMEOUT_MS }));
    await bus.publish('events', entryOf('events', 0));
    await waitFor(async () => (await bus.lastId('events')) !== undefined && bus.processed('events', 'store', (await bus.lastId('events')) as string), 'the entry');
    await consumer.stop();
  });
});

describe('redis bus only', () => {
  let scope: TestScope;
  let bus: RedisBus | undefined;

  beforeAll(() => redisHarness.setup());
  afterAll(() => redisHarness.teardown());
  beforeEach(() => {
    scope = newScope();
  });
  afterEach(async () => {
    await bus?.close();
    bus = undefined;
    await redisHarness.cleanup(scope);
  });

  /** CLIENT KILL for this test's connections only, found by their client name; returns how many. */
  async function killConnections(): Promise<number> {
    const list = String(await redisAdmin().client('LIST'));
    const ids = list
      .split('\n')
      .filter((line) => new RegExp(`(^| )name=${scope.connectionName}( |$)`).test(line))
      .map((line) => /(?:^| )id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    for (const id of ids) await redisAdmin().client('KILL', 'ID', id);
    return ids.length;
  }

  it('loses no entry when its connections are killed mid-consumption', async () => {
    const redisBus = (bus = new RedisBus({ url: REDIS_URL, prefix: scope.prefix, connectionName: scope.connectionName }));
    const handled = new Map<string, number>();
    redisBus.consume({
      stream: 'events',
      group: 'store',
      consumer: 'c1',
      stage: 'store',
      batchSize: 10,
      ...FAST,
      handler: async (entries) => {
        await delay(10);
        for (const entry of entries) handled.set(entry.id, (handled.get(entry.id) ?? 0) + 1);
      },
    });
    const first = await redisBus.publishMany('events', numbered('events', 0, 100));
    await waitFor(() => handled.size >= 30, 'consumption to be under way');
    expect(await killConnections()).toBeGreaterThanOrEqual(2);
    const second = await redisBus.publishMany('events', numbered('events', 100, 100));
    await waitFor(() => handled.size >= 130, 'consumption to go on');
    expect(await killConnections()).toBeGreaterThanOrEqual(2);

    await waitFor(() => redisBus.processed('events', 'store', lastOf(second)), 'every entry to be acked');
    // Now the consumer waits in a blocking read: the kill fails that read.
    expect(await killConnections()).toBeGreaterThanOrEqual(2);
    const third = await redisBus.publishMany('events', numbered('events', 200, 50));
    expect(await redisBus.lastId('events')).toBe(lastOf(third));
    await waitFor(() => redisBus.processed('events', 'store', lastOf(third)), 'the entries after the last kill');
    // An entry may come twice only when its ack was lost with a connection; none may be missing.
    expect([...first, ...second, ...third].filter((id) => !handled.has(id))).toEqual([]);
    expect(await redisBus.length('dlq')).toBe(0);
  });

  it('dead-letters an entry written by another client whose payload is not JSON', async () => {
    const redisBus = (bus = new RedisBus({ url: REDIS_URL, prefix: scope.prefix }));
    const key = `${scope.prefix}events`;
    const garbled = (await redisAdmin().xadd(key, '*', 'p', '{not json')) as string;
    const good = await redisBus.publish('events', entryOf('events', 1));
    const { seen, handler } = recorder<UnifiedEvent>();
    redisBus.consume({ stream: 'events', group: 'store', consumer: 'c1', stage: 'store', ...FAST, handler });
    await waitFor(() => redisBus.processed('events', 'store', good), 'both entries to be settled');
    expect(seen.map((entry) => entry.id)).toEqual([good]);
    const letters = await redisBus.range<DeadLetter>('dlq');
    expect(letters.map((letter) => letter.payload)).toMatchObject([
      { stage: 'store', reason: 'PAYLOAD_NOT_JSON', payload: '{not json', source: { stream: 'events', id: garbled, deliveries: 1 } },
    ]);
  });

  it('keeps its keys under the prefix', async () => {
    const redisBus = (bus = new RedisBus({ url: REDIS_URL, prefix: scope.prefix }));
    await redisBus.publish('raw', entryOf('raw', 0));
    expect(await redisAdmin().exists(`${scope.prefix}raw`)).toBe(1);
    expect(await redisAdmin().xlen(`${scope.prefix}raw`)).toBe(1);
  });
});
