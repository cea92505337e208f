/**
 * `npm run bench`: pipeline throughput, the raw storage limit and paced latency, on the embedded
 * back-end and on PostgreSQL + Redis, in one run. Not a test: it prints numbers.
 *
 *   npm run bench -- [--events N] [--backend embedded|production|all] [--paced-seconds S] [--json]
 */
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import type { UnifiedEvent } from '@ttlp/sdk';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { normalize, computeEventId } from '../src/normalize/index.ts';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import { insertEvents } from '../src/store/events.ts';
import { countEvents } from '../src/store/sessions.ts';
import { createTestBackend, type BackendKind } from '../src/test-support/backends.ts';
import { syntheticSession, type SyntheticSession } from './synthetic-session.ts';

interface Scenario {
  name: string;
  backend: string;
  events: number;
  eventsPerSec: number;
  rawInsertPerSec: number;
  ratio: number;
  p50Ms: number | null;
  p99Ms: number | null;
  rssMb: number;
}

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    backend: { type: 'string', default: 'all' },
    'paced-seconds': { type: 'string', default: '20' },
    'paced-rate': { type: 'string', default: '1000' },
    json: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(args.events);
const PACED_SECONDS = Number(args['paced-seconds']);
const PACED_RATE = Number(args['paced-rate']);
const PUBLISH_BATCH = 500;
const log = createLogger({ level: 'warn', destination: process.stderr });
const rssMb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
const say = (text: string) => process.stderr.write(`${text}\n`);

/** Pipeline settings from the environment apply to the benchmark too (STORE_BATCH_SIZE=1000 npm run bench). */
const tuning = Object.fromEntries(Object.entries(process.env).filter(([name]) => /^(STORE|BUS)_/.test(name)));

async function withPipeline<T>(kind: BackendKind, work: (pipeline: Pipeline) => Promise<T>): Promise<T> {
  const backend = await createTestBackend(kind, tuning);
  const pipeline = await Pipeline.open(loadConfig(backend.env), log);
  try {
    return await work(pipeline);
  } finally {
    await pipeline.close();
    await backend.dispose();
  }
}

/** Publishes `count` envelopes of `session` in batches; returns the last bus id. */
async function publishAll(pipeline: Pipeline, session: SyntheticSession, count: number): Promise<string | undefined> {
  let lastId: string | undefined;
  for (let start = 0; start < count; start += PUBLISH_BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(start + PUBLISH_BATCH, count); i += 1) batch.push(session.envelope(i));
    lastId = (await pipeline.bus.publishMany('raw', batch)).at(-1);
  }
  return lastId;
}

/** Events per second from the first publish to the last event stored. */
async function throughput(kind: BackendKind): Promise<number> {
  return withPipeline(kind, async (pipeline) => {
    pipeline.startStages();
    const session = syntheticSession();
    const started = performance.now();
    const lastId = await publishAll(pipeline, session, EVENTS);
    await pipeline.waitForStored(lastId, {
      onPoll: async () => {
        say(`  ${kind}: ${await countEvents(pipeline.store, session.sessionId)} / ${EVENTS} stored`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const stored = await countEvents(pipeline.store, session.sessionId);
    if (stored !== EVENTS) throw new Error(`${kind}: stored ${stored} of ${EVENTS}`);
    return EVENTS / seconds;
  });
}

/** The same rows inserted straight into the same kind of database, batched, no pipeline. */
async function rawInsert(kind: BackendKind, batchSize: number): Promise<number> {
  return withPipeline(kind, async (pipeline) => {
    const session = syntheticSession();
    let seconds = 0;
    for (let start = 0; start < EVENTS; start += batchSize) {
      const batch: UnifiedEvent[] = [];
      for (let i = start; i < Math.min(start + batchSize, EVENTS); i += 1) {
        const result = normalize(session.envelope(i));
        if (!result.ok) throw new Error(result.rejection.message);
        batch.push(result.event);
      }
      const began = performance.now();
      await insertEvents(pipeline.store, batch);
      seconds += (performance.now() - began) / 1000;
    }
    return EVENTS / seconds;
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Latency from raw publish to stored, with envelopes published one by one at a fixed rate. */
async function pacedLatency(kind: BackendKind): Promise<{ p50: number; p99: number; events: number }> {
  const latencies: number[] = [];
  const publishedAt = new Map<string, number>();
  return withPipeline(kind, async (pipeline) => {
    pipeline.startStages({
      onStored: (events) => {
        const now = performance.now();
        for (const event of events) {
          const at = publishedAt.get(event.eventId);
          if (at !== undefined) latencies.push(now - at);
        }
      },
    });
    const session = syntheticSession();
    const total = Math.round(PACED_RATE * PACED_SECONDS);
    const interval = 1000 / PACED_RATE;
    const started = performance.now();
    let lastId: string | undefined;
    for (let i = 0; i < total; i += 1) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await delay(wait);
      const envelope = session.envelope(i);
      const msgId = (envelope.data.common as { msgId: string }).msgId;
      publishedAt.set(computeEventId(envelope.streamId, envelope.sessionId, msgId, envelope.type), performance.now());
      lastId = await pipeline.bus.publish('raw', envelope);
    }
    await pipeline.waitForStored(lastId);
    const sorted = latencies.sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), events: sorted.length };
  });
}

const round = (value: number, digits = 0) => Number(value.toFixed(digits));

async function measure(kind: BackendKind): Promise<Scenario[]> {
  const batchSize = loadConfig(tuning).storeBatchSize;
  say(`${kind}: pipeline throughput, ${EVENTS} events`);
  const eventsPerSec = await throughput(kind);
  say(`${kind}: raw batched inserts, ${EVENTS} rows`);
  const rawInsertPerSec = await rawInsert(kind, batchSize);
  say(`${kind}: latency at ${PACED_RATE} events/s for ${PACED_SECONDS} s`);
  const paced = await pacedLatency(kind);
  return [
    {
      name: 'throughput',
      backend: kind,
      events: EVENTS,
      eventsPerSec: round(eventsPerSec),
      rawInsertPerSec: round(rawInsertPerSec),
      ratio: round(eventsPerSec / rawInsertPerSec, 2),
      p50Ms: null,
      p99Ms: null,
      rssMb: rssMb(),
    },
    {
      name: `paced-${PACED_RATE}`,
      backend: kind,
      events: paced.events,
      eventsPerSec: PACED_RATE,
      rawInsertPerSec: round(rawInsertPerSec),
      ratio: round(eventsPerSec / rawInsertPerSec, 2),
      p50Ms: round(paced.p50, 1),
      p99Ms: round(paced.p99, 1),
      rssMb: rssMb(),
    },
  ];
}

function table(scenarios: Scenario[]): string {
  const columns: Array<keyof Scenario> = ['name', 'backend', 'events', 'eventsPerSec', 'rawInsertPerSec', 'ratio', 'p50Ms', 'p99Ms', 'rssMb'];
  const rows = [columns.map(String), ...scenarios.map((s) => columns.map((c) => String(s[c] ?? '—')))];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}

const kinds: BackendKind[] = args.backend === 'all' ? ['embedded', 'production'] : [args.backend as BackendKind];
const scenarios: Scenario[] = [];
for (const kind of kinds) scenarios.push(...(await measure(kind)));
process.stdout.write(`${table(scenarios)}\n`);
if (args.json) process.stdout.write(`${JSON.stringify({ scenarios })}\n`);
