/**
 * `npm run bench`: pipeline throughput, the raw storage limit and paced latency, on the embedded
 * back-end and on PostgreSQL + Redis, in one run. Not a test: it prints numbers.
 *
 *   npm run bench -- [--events N] [--backend embedded|production|all] [--paced-seconds S]
 *                    [--paced-rate N] [--overlay-seconds S] [--overlay-clients N] [--json]
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import type { UnifiedEvent } from '@ttlp/sdk';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { normalize, computeEventId } from '../src/normalize/index.ts';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import { insertEvents } from '../src/store/events.ts';
import { countEvents } from '../src/store/sessions.ts';
import { bundlePlugin } from '@ttlp/sdk/sandbox';
import { enablePlugin, grantPermissions } from '../src/plugin-runtime/admin.ts';
import { discoverPlugins, FIRST_PARTY_PLUGINS_DIR } from '../src/plugin-runtime/discovery.ts';
import { PluginHost } from '../src/plugin-runtime/plugin-host.ts';
import { ThreadedSandbox } from '../src/plugin-runtime/sandbox-thread/threaded-sandbox.ts';
import { writeDispatchProbe } from './dispatch-probe.ts';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createHost } from '../src/host.ts';
import { openStore, type Store } from '../src/store/database.ts';
import { createTestBackend, type BackendKind } from '../test/support/backends.ts';
import { syntheticSession, type SyntheticSession } from './synthetic-session.ts';

interface Scenario {
  name: string;
  backend: string;
  events: number;
  eventsPerSec: number;
  rawInsertPerSec: number | null;
  ratio: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  rssMb: number;
  /** Median µs of one plugin handling one event, for plugins that do nothing (the host's share), in batches of `dispatchBatch`. */
  dispatchUsPerPluginEvent?: number;
  dispatchBatch?: number;
  /** The same for events handed over one at a time. */
  singleEventDispatchUs?: number;
  /** Pipeline throughput with the first-party plugins enabled ÷ without them, same run. */
  pluginThroughputRatio?: number;
  /** Overlay WebSocket clients connected during the scenario. */
  overlayClients?: number;
}

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    backend: { type: 'string', default: 'all' },
    'paced-seconds': { type: 'string', default: '20' },
    'paced-rate': { type: 'string', default: '1000' },
    'overlay-seconds': { type: 'string', default: '30' },
    'overlay-clients': { type: 'string', default: '50' },
    /** Comma-separated groups to run: dispatch, pipeline (throughput, paced, with plugins), overlay. Default all. */
    only: { type: 'string', default: 'dispatch,pipeline,overlay' },
    json: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(args.events);
const PACED_SECONDS = Number(args['paced-seconds']);
const PACED_RATE = Number(args['paced-rate']);
const OVERLAY_SECONDS = Number(args['overlay-seconds']);
const OVERLAY_CLIENTS = Number(args['overlay-clients']);
const ONLY = new Set(args.only.split(',').map((group) => group.trim()));
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

/** Grants every first-party plugin what it asks for and enables it. */
async function enableFirstPartyPlugins(store: Store): Promise<void> {
  for (const plugin of discoverPlugins([FIRST_PARTY_PLUGINS_DIR]).plugins) {
    await grantPermissions(store, plugin, 'all');
    await enablePlugin(store, plugin);
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

/**
 * Events per second from the first publish to the last event stored — and, with plugins, until
 * the first-party plugins (all enabled, default settings) handled the last one too.
 */
async function throughput(kind: BackendKind, withPlugins = false): Promise<number> {
  return withPipeline(kind, async (pipeline) => {
    pipeline.startStages();
    let plugins: PluginHost | undefined;
    if (withPlugins) {
      await enableFirstPartyPlugins(pipeline.store);
      // Throughput counts every event handled: a plugin must not skip ahead however far behind it falls.
      plugins = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log, roots: [FIRST_PARTY_PLUGINS_DIR], maxLagEvents: Number.POSITIVE_INFINITY });
      await plugins.start(pipeline.consumer);
    }
    const session = syntheticSession();
    const label = `${kind}${withPlugins ? ' with plugins' : ''}`;
    const started = performance.now();
    const lastId = await publishAll(pipeline, session, EVENTS);
    await pipeline.waitForStored(lastId, {
      onPoll: async () => {
        say(`  ${label}: ${await countEvents(pipeline.store, session.sessionId)} / ${EVENTS} stored`);
      },
    });
    if (plugins) {
      const eventsLastId = await pipeline.bus.lastId('events');
      while (eventsLastId && !(await plugins.processed(eventsLastId))) await delay(100);
    }
    const seconds = (performance.now() - started) / 1000;
    await plugins?.close();
    const stored = await countEvents(pipeline.store, session.sessionId);
    if (stored !== EVENTS) throw new Error(`${label}: stored ${stored} of ${EVENTS}`);
    return EVENTS / seconds;
  });
}

/**
 * Median time of one plugin handling one event, with five plugins that do nothing: the events go
 * in batches of `batchSize` as the plugin host hands them over, and each batch's time counts as
 * that many equal shares.
 */
async function dispatchOverhead(events: number, batchSize: number): Promise<number> {
  const probe = writeDispatchProbe();
  const bundle = await bundlePlugin(probe, 'index.ts').finally(() => rmSync(probe, { recursive: true, force: true }));
  const sandboxes = await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      ThreadedSandbox.start({
        pluginId: `probe-${i}`,
        ...bundle,
        config: {},
        grants: ['events:*'],
        limits: undefined,
        services: {
          overlay: () => undefined,
          log: () => undefined,
          kvGet: async () => undefined,
          kvSet: async () => undefined,
          kvDelete: async () => undefined,
          fetch: async () => ({ status: 404, headers: {}, body: '' }),
        },
      }),
    ),
  );
  const session = syntheticSession();
  const timings: number[] = [];
  for (let start = 0; start < events; start += batchSize) {
    const batch: UnifiedEvent[] = [];
    for (let i = start; i < Math.min(events, start + batchSize); i += 1) {
      const result = normalize(session.envelope(i));
      if (!result.ok) throw new Error(result.rejection.message);
      batch.push(result.event);
    }
    // Serialized once per event for all plugins, as the plugin host does.
    const jsons = batch.map((event) => JSON.stringify(event));
    for (const sandbox of sandboxes) {
      const began = performance.now();
      await sandbox.dispatchMany(batch, jsons);
      const share = ((performance.now() - began) * 1000) / batch.length;
      for (let i = 0; i < batch.length; i += 1) timings.push(share);
    }
  }
  for (const sandbox of sandboxes) await sandbox.close();
  return percentile(timings.sort((a, b) => a - b), 50);
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

/**
 * Latency from the raw publish of an event to the receipt of the overlay message it caused, on
 * `OVERLAY_CLIENTS` WebSocket clients spread over the widgets (in a process of their own, as
 * browsers are), with the first-party plugins enabled, at `PACED_RATE` events/s for
 * `OVERLAY_SECONDS`. Every client's receipt counts; both processes read the same clock.
 */
async function overlayLatency(kind: BackendKind): Promise<{ p50: number; p99: number; frames: number }> {
  const backend = await createTestBackend(kind, tuning);
  const config = loadConfig({ ...backend.env, PORT: '0' });
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await enableFirstPartyPlugins(store).finally(() => store.close());
  // The host as `ttlp start` runs it, fed by this scenario instead of a provider.
  const host = await createHost(config, { log, ingest: false });
  const { pipeline } = host;
  try {
    const now = () => performance.timeOrigin + performance.now();
    const publishedAt = new Map<string, number>();
    const latencies: number[] = [];
    const urls = (await host.overlayUrls()).map(
      ({ widget, url }) => `${host.url.replace(/^http/, 'ws')}/ws/overlay/${widget}?token=${encodeURIComponent(new URL(url).searchParams.get('token')!)}`,
    );
    const clients = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./overlay-clients.ts', import.meta.url)), ...Array.from({ length: OVERLAY_CLIENTS }, (_, i) => urls[i % urls.length]!)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: clients.stdout! });
    const ready = new Promise<void>((resolve) => {
      lines.on('line', (line) => {
        if (line === 'ready') return resolve();
        const [eventId, received] = line.split(' ');
        const at = publishedAt.get(eventId!);
        if (at !== undefined) latencies.push(Number(received) - at);
      });
    });
    const exited = new Promise<void>((resolve) => clients.once('exit', () => resolve()));
    try {
      await ready;
      const session = syntheticSession();
      const total = Math.round(PACED_RATE * OVERLAY_SECONDS);
      const interval = 1000 / PACED_RATE;
      const started = performance.now();
      let lastId: string | undefined;
      for (let i = 0; i < total; i += 1) {
        const wait = started + i * interval - performance.now();
        if (wait > 1) await delay(wait);
        const envelope = session.envelope(i);
        const msgId = (envelope.data.common as { msgId: string }).msgId;
        publishedAt.set(computeEventId(envelope.streamId, envelope.sessionId, msgId, envelope.type), now());
        lastId = await pipeline.bus.publish('raw', envelope);
      }
      await pipeline.waitForStored(lastId);
      const eventsLastId = await pipeline.bus.lastId('events');
      while (eventsLastId && !(await host.plugins.processed(eventsLastId))) await delay(50);
      // The plugins' last output is written within their flush delay; the hub relays it at once.
      await delay(500);
    } finally {
      clients.stdin!.end();
      await exited;
    }
    if (latencies.length === 0) throw new Error(`${kind}: no overlay message reached the clients`);
    const sorted = latencies.sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), frames: sorted.length };
  } finally {
    await host.close();
    await backend.dispose();
  }
}

const round = (value: number, digits = 0) => Number(value.toFixed(digits));

async function measure(kind: BackendKind): Promise<Scenario[]> {
  const scenarios: Scenario[] = [];
  if (ONLY.has('pipeline')) scenarios.push(...(await measurePipeline(kind)));
  if (ONLY.has('overlay')) {
    say(`${kind}: overlay latency at ${PACED_RATE} events/s for ${OVERLAY_SECONDS} s, ${OVERLAY_CLIENTS} overlay clients`);
    const overlay = await overlayLatency(kind);
    scenarios.push({
      name: 'overlay-latency',
      backend: kind,
      events: overlay.frames,
      eventsPerSec: PACED_RATE,
      rawInsertPerSec: null,
      ratio: null,
      p50Ms: round(overlay.p50, 1),
      p99Ms: round(overlay.p99, 1),
      rssMb: rssMb(),
      overlayClients: OVERLAY_CLIENTS,
    });
  }
  return scenarios;
}

async function measurePipeline(kind: BackendKind): Promise<Scenario[]> {
  const batchSize = loadConfig(tuning).storeBatchSize;
  say(`${kind}: pipeline throughput, ${EVENTS} events`);
  const eventsPerSec = await throughput(kind);
  say(`${kind}: raw batched inserts, ${EVENTS} rows`);
  const rawInsertPerSec = await rawInsert(kind, batchSize);
  say(`${kind}: latency at ${PACED_RATE} events/s for ${PACED_SECONDS} s`);
  const paced = await pacedLatency(kind);
  say(`${kind}: pipeline throughput with the first-party plugins, ${EVENTS} events`);
  const withPlugins = await throughput(kind, true);
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
    {
      name: 'throughput-plugins',
      backend: kind,
      events: EVENTS,
      eventsPerSec: round(withPlugins),
      rawInsertPerSec: null,
      ratio: null,
      p50Ms: null,
      p99Ms: null,
      rssMb: rssMb(),
      pluginThroughputRatio: round(withPlugins / eventsPerSec, 2),
    },
  ];
}

function table(scenarios: Scenario[]): string {
  const columns: Array<keyof Scenario> = [
    'name',
    'backend',
    'events',
    'eventsPerSec',
    'rawInsertPerSec',
    'ratio',
    'p50Ms',
    'p99Ms',
    'rssMb',
    'dispatchUsPerPluginEvent',
    'pluginThroughputRatio',
  ];
  const rows = [columns.map(String), ...scenarios.map((s) => columns.map((c) => String(s[c] ?? '—')))];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}

const kinds: BackendKind[] = args.backend === 'all' ? ['embedded', 'production'] : [args.backend as BackendKind];
const scenarios: Scenario[] = [];
// Dispatch first: it measures the host's share per plugin and event, not the garbage the
// throughput runs leave behind.
const dispatchEvents = Math.min(EVENTS, 20_000);
const DISPATCH_BATCH = 50;
if (ONLY.has('dispatch')) {
  say(`plugin dispatch: 5 plugins, ${dispatchEvents} events, one at a time and in batches of ${DISPATCH_BATCH}`);
  const singleEventUs = await dispatchOverhead(dispatchEvents, 1);
  const dispatchUs = await dispatchOverhead(dispatchEvents, DISPATCH_BATCH);
  scenarios.push({
    name: 'plugin-dispatch',
    backend: 'sandbox',
    events: dispatchEvents,
    // What one plugin can take at that cost.
    eventsPerSec: round(1e6 / dispatchUs),
    rawInsertPerSec: null,
    ratio: null,
    p50Ms: null,
    p99Ms: null,
    rssMb: rssMb(),
    dispatchUsPerPluginEvent: round(dispatchUs, 1),
    dispatchBatch: DISPATCH_BATCH,
    singleEventDispatchUs: round(singleEventUs, 1),
  });
}
for (const kind of kinds) scenarios.push(...(await measure(kind)));
process.stdout.write(`${table(scenarios)}\n`);
if (args.json) process.stdout.write(`${JSON.stringify({ scenarios })}\n`);
