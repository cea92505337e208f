/**
 * Hostile plugins against a real host: `createHost` in this process on both back-ends, plugins
 * discovered from a plugin root folder and switched on through the admin API, real events driven
 * through the whole pipeline (GIFTs at a steady pace, chat between them, on the `raw` stream).
 *
 * A canary plugin answers every GIFT with an overlay message naming its eventId. A baseline window
 * times the canary alone; then each hostile plugin gets a window of its own beside the canary, and
 * is switched off through the API afterwards. For each one:
 * - the canary answered every GIFT of the window;
 * - the canary's p99 latency stayed within the latency bound of the baseline's (LATENCY_* below);
 * - the host's event-loop delay stayed within LOOP_P99_BOUND_MS / LOOP_MAX_BOUND_MS;
 * - the hostile plugin ended faulted or disabled with its reason stored, or, when it is merely slow
 *   (a request that hangs), fell behind on its own;
 * - `POST /api/plugins/<id>/disable` still answers 2xx and the plugin stops.
 * A timing bound (latency, loop delay) broken in a window is confirmed before it fails the vector:
 * the canary is timed alone again, then beside a fresh start of the plugin; only a second break,
 * against the worse of the two baselines, is the plugin's. Noise of a busy machine (another test
 * run sharing the cores, Redis and PostgreSQL) rarely strikes twice in a row; a plugin does.
 * A vector whose data is larger than a plugin worker's heap is first run in a process of its own
 * (`crash-probe.ts`): if that process dies, the vector fails with its fatal error and is not let
 * into this one, where it would end the run and every vector after it.
 *
 * Latency is measured from the moment a GIFT was due on the `raw` stream to the moment the canary's
 * message for it appears on the `overlay` stream, read in a consumer group of the test's own: no
 * widget shows a test plugin's channel, and the overlay hub reads that same stream on that same
 * loop, so this is when the hub would have it.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { PluginView } from '@ttlp/sdk/host-contract';
import { loadConfig } from '../src/config.ts';
import { createHost, type Host } from '../src/host.ts';
import { createLogger } from '../src/log.ts';
import { pluginGroup } from '../src/plugin-runtime/plugin-host.ts';
import { getPluginRow } from '../src/store/plugins.ts';
import { BACKEND_KINDS, createTestBackend, type BackendKind, type TestBackend } from './support/backends.ts';
import { CANARY, CANARY_ID, EventTraffic, OverlayWatch, percentile, type TrafficPlan, type TrafficRun } from './support/canary.ts';
import { probeInChildProcess, type ProbeResult } from './support/crash-probe.ts';
import { fakeOverlaysDir } from './support/host-app.ts';
import { HOSTILE_VECTORS, startHangServer, type HangServer, type HostileVector } from './support/hostile-vectors.ts';
import { LoopDelay, type LoopDelayFigures } from './support/loop-delay.ts';
import { HANG_MS, waitFor } from './support/patience.ts';
import { writePluginRoot, type PluginRoot } from './support/plugin-root.ts';

/**
 * The canary's p99 in a hostile window may be at most max(LATENCY_RATIO × baseline p99, baseline
 * p99 + LATENCY_ALLOWANCE_MS). The ratio is the requirement; the allowance absorbs what a loaded
 * 2-core machine adds to a window of a couple of dozen samples, where the p99 is in effect the
 * slowest GIFT and one scheduler hiccup or GC pause sets it. Measured here: baselines of 7–10 ms
 * idle and 24–29 ms with two busy-loop processes saturating both cores, windows of well-behaved
 * vectors at 4–31 ms idle and 18–81 ms saturated; a plugin spending its whole CPU share (half a
 * core) beside a full test run took the canary to 73 ms over an 8 ms baseline. A loop stalled
 * 200 ms at a time delays a GIFT in flight by up to 200 ms, past either term.
 */
const LATENCY_RATIO = 2;
const LATENCY_ALLOWANCE_MS = 100;

/**
 * The host's event-loop delay, sampled every LOOP_SAMPLE_MS (each sample is the interval, so an
 * idle loop reads ~10 ms and a stall of S ms reads S + 10). Measured here with the plugins' code
 * off-loop: p99 11–18 ms and max 13–45 ms idle; p99 18–50 ms and max 23–86 ms with both cores
 * saturated. Stalls of 200 ms break both bounds: one alone is one sample among ~300, invisible to
 * the p99, so the max catches it; recurring ones (every second or more often) fill the top
 * percentile.
 */
const LOOP_P99_BOUND_MS = 80;
const LOOP_MAX_BOUND_MS = 180;

/** A hostile window: ~3 s of GIFTs every 125 ms, three chat messages between two GIFTs. */
const WINDOW: TrafficPlan = { gifts: 24, giftEveryMs: 125, chatsPerGift: 3 };
/** The baseline: the same pace, longer, for a steadier p99. */
const BASELINE: TrafficPlan = { ...WINDOW, gifts: 40 };
/** Before the baseline, not measured. */
const WARM_UP: TrafficPlan = { ...WINDOW, gifts: 8 };
/** The canary alone again, when a hostile window broke a timing bound (see the vectors' test). */
const CONFIRM_BASELINE: TrafficPlan = { ...WINDOW, gifts: 16 };

/** GIFTs a plugin that may take its process down gets in its probe: enough to fault five times. */
const PROBE_EVENTS = 6;
const probes = new Map<string, Promise<ProbeResult>>();

/** What a window measured. */
interface WindowFigures {
  gifts: number;
  missing: string[];
  p99Ms: number;
  maxMs: number;
  loop: LoopDelayFigures;
  /** Why the window could not be drained (the canary or the pipeline never got through it). */
  undrained?: string;
  /** The newest event when the window ended. */
  eventsLastId?: string;
}

interface VectorResult {
  vector: string;
  passed: boolean;
  figures: string;
}

const round = (ms: number) => (Number.isFinite(ms) ? Math.round(ms * 10) / 10 : ms);

function latencyBound(baseline: WindowFigures): number {
  return Math.max(LATENCY_RATIO * baseline.p99Ms, baseline.p99Ms + LATENCY_ALLOWANCE_MS);
}

/** What a window broke of the timing bounds: the canary's latency against `baseline`, the host's loop delay. */
function timingProblems(window: WindowFigures, baseline: WindowFigures): string[] {
  const bound = latencyBound(baseline);
  return [
    ...(window.p99Ms <= bound ? [] : [`the canary's p99 ${round(window.p99Ms)} ms is over ${round(bound)} ms (baseline p99 ${round(baseline.p99Ms)} ms)`]),
    ...(window.loop.p99Ms > LOOP_P99_BOUND_MS ? [`the host's loop delay p99 ${window.loop.p99Ms} ms is over ${LOOP_P99_BOUND_MS} ms`] : []),
    ...(window.loop.maxMs > LOOP_MAX_BOUND_MS ? [`the host's loop delay max ${window.loop.maxMs} ms is over ${LOOP_MAX_BOUND_MS} ms`] : []),
  ];
}

/** What a window broke that no busy machine excuses: GIFTs the canary never answered, a window that never drained. */
function countProblems(window: WindowFigures): string[] {
  return [
    ...(window.missing.length > 0 ? [`the canary missed ${window.missing.length} of ${window.gifts} GIFTs`] : []),
    ...(window.undrained ? [`the window did not drain: ${window.undrained}`] : []),
  ];
}

function describeWindow(figures: WindowFigures): string {
  return [
    `GIFTs ${figures.gifts}, missing ${figures.missing.length}${figures.missing.length ? ` (${figures.missing.slice(0, 3).map((id) => id.slice(0, 12)).join(', ')}…)` : ''}`,
    `canary p99 ${round(figures.p99Ms)} ms (max ${round(figures.maxMs)} ms)`,
    `host loop delay p99 ${figures.loop.p99Ms} ms, max ${figures.loop.maxMs} ms (${figures.loop.samples} samples)`,
    ...(figures.undrained ? [`not drained: ${figures.undrained}`] : []),
  ].join('; ');
}

function describePlugin(view: PluginView | undefined): string {
  if (!view) return 'plugin: not found';
  return `plugin: ${view.state}, enabled ${view.enabled}, running ${view.running}, faults ${view.faultCount}, lag ${view.lag ?? '-'}, last error ${JSON.stringify(view.lastError?.slice(0, 240) ?? null)}`;
}

/** The admin API of the host, as the settings page uses it. */
class AdminApi {
  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  /** A request; a host that never answers fails it after HANG_MS (only a hang). */
  async request(method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown; ms: number }> {
    const started = performance.now();
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(HANG_MS),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text), ms: Math.round(performance.now() - started) };
  }

  async view(pluginId: string): Promise<PluginView> {
    const answer = await this.request('GET', `/api/plugins/${pluginId}`);
    if (answer.status !== 200) throw new Error(`GET /api/plugins/${pluginId} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body as PluginView;
  }

  /** Grants everything the plugin asks for and switches it on, as the settings page does. */
  async enable(pluginId: string): Promise<PluginView> {
    const { requestedPermissions } = await this.view(pluginId);
    const answer = await this.request('POST', `/api/plugins/${pluginId}/enable`, { grant: requestedPermissions });
    if (answer.status !== 200) throw new Error(`POST /api/plugins/${pluginId}/enable answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body as PluginView;
  }

  disable(pluginId: string): Promise<{ status: number; body: unknown; ms: number }> {
    return this.request('POST', `/api/plugins/${pluginId}/disable`);
  }
}

/** Waits for `work`, but only until HANG_MS: past it, `undefined` (a hang the caller reports). */
async function unlessItHangs<T>(work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), HANG_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** One back-end's host with the canary running, the traffic, the overlay watch and the loop monitor. */
class HostileSuite {
  readonly results: VectorResult[] = [];
  baseline: WindowFigures | undefined;

  private constructor(
    readonly kind: BackendKind,
    readonly host: Host,
    readonly api: AdminApi,
    readonly traffic: EventTraffic,
    readonly watch: OverlayWatch,
    readonly loop: LoopDelay,
    private readonly resources: { backend: TestBackend; root: PluginRoot; hang: HangServer },
  ) {}

  static async open(kind: BackendKind): Promise<HostileSuite> {
    const hang = await startHangServer();
    const root = writePluginRoot([CANARY, ...HOSTILE_VECTORS.map((vector) => vector.plugin(hang.origin))]);
    let backend: TestBackend | undefined;
    try {
      backend = await createTestBackend(kind, { PLUGINS_DIR: root.dir });
      // What plugins log is written (and costs the host what it costs in production), then dropped.
      const log = createLogger({ level: 'info', destination: new Writable({ write: (_chunk, _encoding, done) => done() }) });
      const host = await createHost(loadConfig({ ...backend.env, PORT: '0' }), { log, ingest: false, overlaysDir: fakeOverlaysDir() });
      try {
        const api = new AdminApi(host.url, host.firstAdminToken!);
        await api.enable(CANARY_ID);
        const traffic = await EventTraffic.open(host.pipeline.bus, host.pipeline.store);
        const watch = await OverlayWatch.start(host.pipeline.bus, `hostile-suite-${process.pid}`);
        return new HostileSuite(kind, host, api, traffic, watch, new LoopDelay(), { backend, root, hang });
      } catch (error) {
        await host.close();
        throw error;
      }
    } catch (error) {
      await backend?.dispose();
      root.remove();
      await hang.close();
      throw error;
    }
  }

  /** Runs `plan`'s traffic and waits until the canary is through it; what the window measured. */
  async window(plan: TrafficPlan): Promise<WindowFigures> {
    this.loop.reset();
    const run = await this.traffic.run(plan);
    const undrained = await this.drain(run);
    const loop = this.loop.read();
    const { arrivals } = this.watch;
    const latencies = run.gifts.flatMap((gift) => {
      const at = arrivals.get(gift.eventId);
      return at === undefined ? [] : [at - gift.dueAt];
    });
    return {
      gifts: run.gifts.length,
      missing: run.gifts.filter((gift) => !arrivals.has(gift.eventId)).map((gift) => gift.eventId),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.length ? Math.max(...latencies) : Number.NaN,
      loop,
      ...(undrained.reason ? { undrained: undrained.reason } : {}),
      eventsLastId: undrained.eventsLastId,
    };
  }

  /**
   * Waits until nothing more of the window can reach the canary's overlay: every GIFT answered, or
   * the normalizer past the window, the canary's group past the newest event after that (its output
   * is written before its batch is acknowledged), and the watch past the newest overlay message.
   * Answers why not, when one of these hung.
   */
  private async drain(run: TrafficRun): Promise<{ reason?: string; eventsLastId?: string }> {
    const { bus } = this.host.pipeline;
    const answered = () => run.gifts.every((gift) => this.watch.arrivals.has(gift.eventId));
    let eventsLastId: string | undefined;
    try {
      await waitFor(async () => answered() || (await this.traffic.normalized(run.lastRawId)), 'the normalizer to pass the window');
      eventsLastId = await bus.lastId('events');
      const canaryThrough = async () => !this.host.plugins.loaded.has(CANARY_ID) || eventsLastId === undefined || bus.processed('events', pluginGroup(CANARY_ID), eventsLastId);
      await waitFor(async () => answered() || (await canaryThrough()), 'the canary to handle the window');
      const overlayLastId = await bus.lastId('overlay');
      await waitFor(async () => answered() || overlayLastId === undefined || (await this.watch.readUpTo(overlayLastId)), "the watch to read the canary's messages");
      return { eventsLastId };
    } catch (error) {
      return { reason: error instanceof Error ? error.message : String(error), eventsLastId };
    }
  }

  /** Switches `pluginId` off through the API; answers what happened, in words, and whether it worked. */
  async switchOff(pluginId: string): Promise<{ ok: boolean; said: string; view?: PluginView }> {
    const answer = await this.api.disable(pluginId).catch((error: unknown) => ({ status: 0, body: String(error), ms: HANG_MS }));
    // What it left hanging must not weigh on the next vector's window.
    this.resources.hang.dropConnections();
    const ok = answer.status >= 200 && answer.status < 300 && !this.host.plugins.loaded.has(pluginId);
    const said = answer.status === 0 ? `disable: no answer (${String(answer.body)})` : `disable: HTTP ${answer.status} in ${answer.ms} ms${this.host.plugins.loaded.has(pluginId) ? ', still running' : ''}`;
    return { ok, said, ...(answer.status === 200 ? { view: answer.body as PluginView } : {}) };
  }

  /**
   * Waits until the hostile plugin has had the window: its row says it faulted or was disabled,
   * or it handled (or skipped) every event up to `eventsLastId`, or it no longer runs. False when
   * none of these came to pass before HANG_MS (it is wedged).
   */
  async hostileHadTheWindow(pluginId: string, eventsLastId: string | undefined): Promise<boolean> {
    const { bus, store } = this.host.pipeline;
    return waitFor(async () => {
      if (!this.host.plugins.loaded.has(pluginId) || eventsLastId === undefined) return true;
      if (await bus.processed('events', pluginGroup(pluginId), eventsLastId)) return true;
      const row = await getPluginRow(store, pluginId);
      return row !== undefined && row.lastError !== null && (row.faultCount > 0 || !row.enabled);
    }, `${pluginId} to get through the window`).then(
      () => true,
      () => false,
    );
  }

  /** Runs the plugin in a process of its own on a few GIFTs (once per test file: the plugin is the same on every back-end). */
  probe(pluginId: string): Promise<ProbeResult> {
    let result = probes.get(pluginId);
    if (!result) {
      const requested = this.api.view(pluginId).then((view) => view.requestedPermissions);
      result = requested.then((grants) => probeInChildProcess(path.join(this.resources.root.dir, pluginId), grants, PROBE_EVENTS));
      probes.set(pluginId, result);
    }
    return result;
  }

  async close(): Promise<void> {
    const { backend, root, hang } = this.resources;
    this.loop.stop();
    await unlessItHangs(this.watch.stop());
    // A plugin wedged beyond switching off must not keep the back-end's database from being dropped.
    await unlessItHangs(this.host.close());
    await hang.close();
    await backend.dispose();
    root.remove();
  }
}

describe.each(BACKEND_KINDS)('hostile plugins beside a canary, on the %s back-end', (kind) => {
  let suite: HostileSuite;

  beforeAll(async () => {
    suite = await HostileSuite.open(kind);
  });

  afterAll(async () => {
    if (!suite) return;
    const table = suite.results.map((result) => `  ${result.passed ? 'pass' : 'FAIL'}  ${result.vector.padEnd(20)} ${result.figures}`);
    console.info(`hostile plugins on the ${kind} back-end (baseline: ${suite.baseline ? describeWindow(suite.baseline) : 'none'}):\n${table.join('\n')}`);
    await suite.close();
  });

  it('times the canary alone: the baseline', async () => {
    // The first events of a fresh host pay for JIT compilation and the stores' first writes.
    await suite.window(WARM_UP);
    const baseline = await suite.window(BASELINE);
    suite.baseline = baseline;
    const figures = describeWindow(baseline);
    expect(baseline.missing, `baseline on ${kind}: ${figures}`).toEqual([]);
    expect(baseline.undrained, `baseline on ${kind}: ${figures}`).toBeUndefined();
    expect(baseline.loop.p99Ms, `baseline on ${kind}: ${figures}`).toBeLessThanOrEqual(LOOP_P99_BOUND_MS);
  });

  it.each(HOSTILE_VECTORS)('$id: $title', async (vector: HostileVector) => {
    const baseline = suite.baseline;
    if (!baseline) throw new Error('the baseline window did not run: no latency to compare with');
    const report = (problems: string[], figures: string) => {
      suite.results.push({ vector: vector.id, passed: problems.length === 0, figures });
      expect(problems, `${vector.id} on ${kind}: ${figures}`).toEqual([]);
    };

    if (vector.mayCrashTheProcess) {
      const probe = await suite.probe(vector.id);
      if (!probe.survived) return report(['running it took its own process down, so it was not run beside the canary'], `probe in a process of its own: ${probe.said}`);
    }

    let switchedOff = false;
    onTestFinished(async () => {
      if (!switchedOff) await unlessItHangs(suite.switchOff(vector.id));
    });
    await suite.api.enable(vector.id);
    const first = await suite.window(WINDOW);
    let window = first;
    let against = baseline;
    let timing = timingProblems(first, baseline);
    let confirmation = '';
    if (timing.length > 0) {
      // A timing bound broken once may be the machine (a busy Redis, a descheduled thread): the
      // canary is timed alone again now, then beside a fresh start of the plugin. Broken again,
      // against the worse of both baselines, it is the plugin.
      const off = await suite.switchOff(vector.id);
      const fresh = await suite.window(CONFIRM_BASELINE);
      await suite.api.enable(vector.id);
      window = await suite.window(WINDOW);
      against = fresh.p99Ms > baseline.p99Ms ? fresh : baseline;
      confirmation = `first window: ${describeWindow(first)} (${timing.join('; ')}); ${off.said}; the canary alone again: ${describeWindow(fresh)}; second window: `;
      timing = timingProblems(window, against);
    }
    const problems = [...countProblems(first), ...(window === first ? [] : countProblems(window)), ...timing];

    let behind: boolean | undefined;
    if (vector.expect === 'faulted') {
      // The plugin has had the window: faulted already, through the window's events, or stopped.
      const had = await suite.hostileHadTheWindow(vector.id, window.eventsLastId);
      if (!had) problems.push('the plugin never got through the window (it is wedged)');
    } else {
      // Merely slow: behind on its own while the canary is through the window.
      const { bus } = suite.host.pipeline;
      behind = suite.host.plugins.loaded.has(vector.id) && window.eventsLastId !== undefined && !(await bus.processed('events', pluginGroup(vector.id), window.eventsLastId));
      if (!behind) problems.push('the plugin was not behind the canary');
    }
    const before = await suite.api.view(vector.id);

    const off = await suite.switchOff(vector.id);
    switchedOff = true;
    if (!off.ok) problems.push(`switching it off failed (${off.said})`);
    // Switching off answers once every fault heard so far is recorded: the answer has them all.
    const after = off.view ?? before;
    if (vector.expect === 'faulted' && !(after.lastError !== null && (after.faultCount > 0 || !before.enabled)))
      problems.push('the plugin was neither faulted nor disabled with a reason');

    report(
      problems,
      `${confirmation}${describeWindow(window)} | bound ${round(latencyBound(against))} ms (baseline p99 ${round(against.p99Ms)} ms) | before switching off: ${describePlugin(before)}${
        behind === undefined ? '' : `, behind ${behind}`
      } | ${off.said}, then faults ${after.faultCount}, last error ${JSON.stringify(after.lastError?.slice(0, 160) ?? null)}`,
    );
  });
});
