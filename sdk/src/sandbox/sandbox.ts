/**
 * One plugin in its own isolated-vm isolate. The host side of every call the plugin makes lives
 * here: permissions and limits are checked before a service is used, and every answer crosses
 * the boundary as a JSON string (`{result}` or `{error}`, never a host stack or object).
 *
 * A "run" is one call of the plugin — its setup, one event, one timer — plus the async work it
 * started. Each run has a CPU budget (checked with isolated-vm's timeout and the isolate's CPU
 * clock, and covering the microtasks it triggers); the async part has a wall deadline; the
 * isolate's CPU use per second is capped. Events go in batches: one entry into the isolate handles
 * several events while they finish synchronously and quickly (see `dispatchMany`).
 * A violation is a fault. Faults that leave the isolate unusable or busy (memory, deadline,
 * CPU share) recreate it: setup runs again, kv is kept. Too many faults in a window disable the
 * plugin.
 */
import { createHmac } from 'node:crypto';
import ivm from 'isolated-vm';
import type { EventType } from '../contract/constants.ts';
import type { Json } from '../plugin.ts';
import { Grants } from './permissions.ts';
import { PRELUDE } from './prelude.ts';

export interface SandboxLimits {
  /** Heap of the isolate, MB. */
  heapMb: number;
  /** CPU of one entry into the plugin (an event, a timer, setup), ms. */
  cpuMsPerRun: number;
  /** Time for the async work a run started to finish, ms. */
  wallMsPerRun: number;
  /** CPU the isolate may use per second, ms (timers and async work included). */
  cpuMsPerSecond: number;
  overlayMaxBytes: number;
  kvValueMaxBytes: number;
  /** Log lines per second on average, with bursts up to `logBurst`. */
  logPerSecond: number;
  logBurst: number;
  maxTimers: number;
  minTimerMs: number;
  /** Faults within `faultWindowMs` that disable the plugin. */
  maxFaults: number;
  faultWindowMs: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  heapMb: 64,
  cpuMsPerRun: 50,
  wallMsPerRun: 10_000,
  cpuMsPerSecond: 500,
  overlayMaxBytes: 64 * 1024,
  kvValueMaxBytes: 64 * 1024,
  logPerSecond: 20,
  logBurst: 100,
  maxTimers: 64,
  minTimerMs: 10,
  maxFaults: 5,
  faultWindowMs: 60_000,
};

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the plugin's current run is about, for the services (the actions log names the event). */
export interface RunInfo {
  kind: 'setup' | 'event' | 'timer';
  eventId?: string;
}

export interface HttpCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the host (or the test harness) does for a plugin once its permissions were checked. */
export interface SandboxServices {
  overlay(channel: string, data: Json, kind: 'message' | 'state', run: RunInfo): void;
  log(level: LogLevel, message: string, fields: Record<string, Json> | undefined, run: RunInfo): void;
  kvGet(key: string, run: RunInfo): Promise<Json | undefined>;
  kvSet(key: string, value: Json, run: RunInfo): Promise<void>;
  kvDelete(key: string, run: RunInfo): Promise<void>;
  fetch(call: HttpCall, grants: Grants, run: RunInfo): Promise<HttpAnswer>;
}

export type FaultKind = 'error' | 'timeout' | 'memory' | 'deadline' | 'cpu' | 'limit' | 'crash';

export interface Fault {
  kind: FaultKind;
  message: string;
  run: RunInfo;
  at: Date;
}

export interface SandboxOptions {
  pluginId: string;
  /** The bundled plugin (see `bundlePlugin`). */
  code: string;
  config: Record<string, unknown>;
  grants: readonly string[];
  services: SandboxServices;
  limits?: Partial<SandboxLimits>;
  onFault?(fault: Fault): void;
  onDisabled?(reason: string): void;
}

interface Run {
  id: number;
  info: RunInfo;
  violation?: string;
  /** How the run ended, once it did (possibly before anyone waits for it). */
  ended?: RunEnd;
  /** Set while the host waits for the run's async work. */
  waiter?: (outcome: RunEnd) => void;
}

function finishRun(run: Run, outcome: RunEnd): void {
  if (run.ended) return;
  run.ended = outcome;
  run.waiter?.(outcome);
}

interface Generation {
  number: number;
  isolate: ivm.Isolate;
  context: ivm.Context;
  entries: { setup: ivm.Reference; dispatch: ivm.Reference; fire: ivm.Reference; settle: ivm.Reference };
  /** Shared with the isolate: the index of the batch's event being handled, and the ms the entry had run before it. */
  progress: Int32Array;
  timers: Map<number, NodeJS.Timeout>;
  subscribed: Set<string>;
}

type Outcome = { result: unknown } | { error: string };
/** How a run ended: its handlers' first error, a fault, or cut short by a restart of the isolate. */
type RunEnd = { error?: string; fault?: Omit<Fault, 'run' | 'at'>; aborted?: boolean };

const MAX_KEY_LENGTH = 256;
const TIMED_OUT = 'Script execution timed out.';
const CPU_SHARE_CHECK_MS = 50;
const NO_FAULT: Promise<undefined> = Promise.resolve(undefined);
/** Wall-clock allowance of one entry into the isolate, as a multiple of its CPU budget. */
const WALL_PER_CPU = 4;
/** Most events one entry into the isolate handles. */
const MAX_BATCH = 64;
/**
 * An entry takes no further event once it has run this long (ms, the isolate's wall clock): then
 * when the entry's CPU exceeds the budget, all but this much (plus the clock's 1 ms step) of it
 * belongs to its last event, which is the one at fault.
 */
const BATCH_SLICE_MS = 1;

export class PluginSandbox {
  readonly limits: SandboxLimits;
  readonly grants: Grants;
  private generation: Generation | undefined;
  private generations = 0;
  private nextRun = 0;
  private nextTimer = 0;
  private readonly runs = new Map<number, Run>();
  private active: Run | undefined;
  /** The runs of the batch being handled: which is current is in the generation's `progress`. */
  private batch: Run[] | undefined;
  private faultTimes: number[] = [];
  private logTokens: number;
  private logRefilledAt = Date.now();
  private cpuWindow = { start: 0, cpuAtStart: 0n };
  private cpuShareCheckedAt = 0;
  private disabledReason: string | undefined;
  private config: Record<string, unknown>;
  private code: string;
  /** Set while the isolate is being recreated; events wait for it instead of being missed. */
  private restarting: Promise<void> | undefined;

  private constructor(private readonly options: SandboxOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.grants = new Grants(options.grants);
    this.logTokens = this.limits.logBurst;
    this.config = options.config;
    this.code = options.code;
  }

  /** Creates the isolate and runs the plugin's setup; a failing setup is a fault, not an exception. */
  static async start(options: SandboxOptions): Promise<PluginSandbox> {
    const sandbox = new PluginSandbox(options);
    await sandbox.boot();
    return sandbox;
  }

  get pluginId(): string {
    return this.options.pluginId;
  }

  get disabled(): string | undefined {
    return this.disabledReason;
  }

  /**
   * isolated-vm's timeout counts wall-clock time, which a busy machine stretches; it is set a few
   * times above the CPU budget to stop runaway code, and the CPU the entry really used is checked
   * against the budget afterwards.
   */
  private get entryTimeoutMs(): number {
    return this.limits.cpuMsPerRun * WALL_PER_CPU;
  }

  /** True when the plugin is granted `eventType` and registered a handler that receives it. */
  wants(eventType: EventType | string): boolean {
    const subscribed = this.generation?.subscribed;
    if (this.disabledReason || !subscribed || !this.grants.receives(eventType)) return false;
    return subscribed.has(eventType) || subscribed.has('*');
  }

  /**
   * Runs the plugin's handlers for one event and waits for the async work they started.
   * Resolves with the fault, if the run had one; never rejects.
   */
  async dispatch(event: { eventId: string; eventType: string }, eventJson: string): Promise<Fault | undefined> {
    return (await this.dispatchMany([event], [eventJson]))[0];
  }

  /**
   * Runs the plugin's handlers for `events` (their JSON in `jsons`), in order, each one only after
   * the async work of the one before has finished. Several events share one entry into the isolate
   * while their handlers finish synchronously: the cost of entering is paid once per batch, and
   * each event keeps its own run, CPU budget and fault. Resolves with the faults; never rejects.
   */
  async dispatchMany(events: ReadonlyArray<{ eventId: string; eventType: string }>, jsons: readonly string[]): Promise<Fault[]> {
    const faults: Fault[] = [];
    let next = 0;
    while (next < events.length) {
      if (this.restarting) await this.restarting;
      const generation = this.generation;
      if (!generation || this.disabledReason) break;
      const picked: number[] = [];
      let scanned = next;
      for (; scanned < events.length && picked.length < MAX_BATCH; scanned += 1) if (this.wants(events[scanned]!.eventType)) picked.push(scanned);
      if (picked.length === 0) break;
      const batch = await this.runBatch(
        generation,
        picked.map((index) => events[index]!.eventId),
        picked.map((index) => jsons[index]!),
      );
      faults.push(...batch.faults);
      const handled = batch.handled;
      next = handled >= picked.length ? scanned : picked[handled]!;
    }
    return faults;
  }

  /** Restarts the plugin on new code (a rebuilt bundle), keeping its kv; past faults are forgiven. */
  async reload(code: string, config: Record<string, unknown> = this.config): Promise<void> {
    this.code = code;
    this.config = config;
    this.faultTimes = [];
    await this.recreate();
  }

  async close(): Promise<void> {
    this.teardown();
  }

  // ---- runs -------------------------------------------------------------------------------

  private async boot(): Promise<void> {
    let generation: Generation;
    try {
      generation = await this.createGeneration();
    } catch (error) {
      // No isolate to run the plugin in (a heap limit too small for the prelude, say): the plugin
      // stops here, the host does not.
      this.disable(`the plugin's isolate could not be started: ${messageOf(error)}`);
      return;
    }
    if (this.disabledReason) {
      this.dispose(generation);
      return;
    }
    this.generation = generation;
    this.cpuWindow = { start: Date.now(), cpuAtStart: generation.isolate.cpuTime };
    await this.run({ kind: 'setup' }, (current, runId) =>
      current.entries.setup.applySync(undefined, [runId, JSON.stringify(this.config), this.pluginId], {
        timeout: this.entryTimeoutMs,
      }),
    );
  }

  private async createGeneration(): Promise<Generation> {
    const isolate = new ivm.Isolate({
      memoryLimit: this.limits.heapMb,
      onCatastrophicError: (message) => this.disable(`the isolate failed: ${message}`),
    });
    try {
      return await this.prepareGeneration(isolate);
    } catch (error) {
      if (!isolate.isDisposed) isolate.dispose();
      throw error;
    }
  }

  private async prepareGeneration(isolate: ivm.Isolate): Promise<Generation> {
    const context = await isolate.createContext();
    const number = ++this.generations;
    const global = context.global;
    await global.set('globalThis', global.derefInto());
    await global.set('__ttlp_call', new ivm.Callback((op: string, args: string) => this.serveCall(number, op, args)));
    // Both are synchronous: the isolate is only ever entered from this thread (applySync), so the
    // host knows which run is calling.
    await global.set('__ttlp_request', new ivm.Callback((id: number, op: string, args: string) => this.serveRequest(number, id, op, args)));
    const shared = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
    await global.set('__ttlp_progress', new ivm.ExternalCopy(shared).copyInto({ release: true }));
    const timeout = this.limits.cpuMsPerRun * 10;
    await context.eval(PRELUDE, { timeout });
    const generation: Partial<Generation> = { number, isolate, context, progress: new Int32Array(shared), timers: new Map(), subscribed: new Set() };
    try {
      await context.eval(this.code, { timeout });
    } catch (error) {
      const kind = isolate.isDisposed ? 'memory' : messageOf(error) === TIMED_OUT ? 'timeout' : 'crash';
      this.fault({ kind, message: `loading the plugin failed: ${messageOf(error)}` }, { kind: 'setup' });
      this.disable(`loading the plugin failed: ${messageOf(error)}`);
      return generation as Generation;
    }
    const entries = (await global.get('__ttlp', { reference: true })) as ivm.Reference<Record<string, unknown>>;
    generation.entries = {
      setup: (await entries.get('setup', { reference: true })) as ivm.Reference,
      dispatch: (await entries.get('dispatch', { reference: true })) as ivm.Reference,
      fire: (await entries.get('fire', { reference: true })) as ivm.Reference,
      settle: (await entries.get('settle', { reference: true })) as ivm.Reference,
    };
    entries.release();
    return generation as Generation;
  }

  /**
   * One run (setup, a timer): the entry, then — only when the plugin left async work running —
   * waiting for it (up to the wall deadline).
   */
  private run(info: RunInfo, enter: (generation: Generation, runId: number) => unknown): Promise<Fault | undefined> {
    const generation = this.generation;
    if (!generation || this.disabledReason) return NO_FAULT;
    const run: Run = { id: ++this.nextRun, info };
    this.runs.set(run.id, run);
    let waiting = false;
    try {
      const entered = this.enter(generation, run, () => enter(generation, run.id));
      if ('fault' in entered) return Promise.resolve(this.endRun(run, entered.fault));
      const state = entered.value === true ? true : runState(entered.value);
      if (state === 'pending') {
        waiting = true;
        return this.waitFor(run);
      }
      const fault = this.endRun(run, state === true ? undefined : state);
      return fault === undefined ? NO_FAULT : Promise.resolve(fault);
    } finally {
      if (!waiting) this.runs.delete(run.id);
    }
  }

  /**
   * One entry into the isolate for up to `jsons.length` events (see the prelude's `dispatch`).
   * Answers how many it handled and their faults, after waiting for the async work the last one
   * left running. When the entry overran, the fault is the last event's: all but the entry's wall
   * time before that event started is its CPU.
   */
  private async runBatch(generation: Generation, eventIds: string[], jsons: string[]): Promise<{ handled: number; faults: Fault[] }> {
    const runs: Run[] = eventIds.map((eventId) => ({ id: ++this.nextRun, info: { kind: 'event', eventId } }));
    for (const run of runs) this.runs.set(run.id, run);
    const progress = generation.progress;
    progress[0] = 0;
    progress[1] = 0;
    const lastStarted = () => Math.min(Math.max(progress[0]!, 0), runs.length - 1);
    const faults: Fault[] = [];
    const end = (run: Run, fault: Omit<Fault, 'run' | 'at'> | undefined) => {
      const recorded = this.endRun(run, fault);
      if (recorded) faults.push(recorded);
    };
    let waiting: Run | undefined;
    this.batch = runs;
    try {
      const entered = this.enter(
        generation,
        runs[0]!,
        () => generation.entries.dispatch.applySync(undefined, [runs[0]!.id, `[${jsons.join(',')}]`, BATCH_SLICE_MS], { timeout: this.entryTimeoutMs }),
        () => (lastStarted() === 0 ? 0 : progress[1]! + 1),
      );
      this.batch = undefined;
      let count: number;
      let last: true | 'pending' | Omit<Fault, 'run' | 'at'>;
      if ('fault' in entered) {
        count = lastStarted() + 1;
        last = entered.fault;
      } else if (typeof entered.value === 'number') {
        count = entered.value;
        last = true;
      } else {
        const answer = parseJson(entered.value) as { count?: unknown; state?: unknown } | undefined;
        count = typeof answer?.count === 'number' ? answer.count : 0;
        last = runState(answer?.state === true ? true : JSON.stringify(answer?.state));
      }
      if (!Number.isInteger(count) || count < 1 || count > runs.length) {
        // Only a plugin that replaced the host's entry point answers like this.
        count = 1;
        last = { kind: 'crash', message: 'the plugin replaced its dispatch entry point' };
      }
      for (let i = 0; i < count - 1; i += 1) end(runs[i]!, undefined);
      const lastRun = runs[count - 1]!;
      if (last === 'pending') {
        waiting = lastRun;
      } else end(lastRun, last === true ? undefined : last);
      if (waiting) {
        const fault = await this.waitFor(waiting);
        if (fault) faults.push(fault);
      }
      return { handled: count, faults };
    } finally {
      this.batch = undefined;
      for (const run of runs) if (run !== waiting) this.runs.delete(run.id);
    }
  }

  private async waitFor(run: Run): Promise<Fault | undefined> {
    let deadline: NodeJS.Timeout | undefined;
    try {
      const outcome =
        run.ended ??
        (await new Promise<RunEnd>((resolve) => {
          run.waiter = resolve;
          deadline = setTimeout(
            () => finishRun(run, { fault: { kind: 'deadline', message: `async work did not finish within ${this.limits.wallMsPerRun} ms` } }),
            this.limits.wallMsPerRun,
          );
        }));
      if (outcome.aborted) return undefined;
      return this.endRun(run, outcome.fault ?? (outcome.error === undefined ? undefined : { kind: 'error', message: outcome.error }));
    } finally {
      clearTimeout(deadline);
      this.runs.delete(run.id);
    }
  }

  /**
   * Calls into the isolate with `run` as the current run; turns what went wrong into a fault.
   * `othersMs` is how much of the entry's CPU, at most, went to runs before the last one.
   */
  private enter(
    generation: Generation,
    run: Run,
    call: () => unknown,
    othersMs: () => number = () => 0,
  ): { value: unknown } | { fault: Omit<Fault, 'run' | 'at'> } {
    const previous = this.active;
    this.active = run;
    const overBudget = () => ({ kind: 'timeout' as const, message: `used more than ${this.limits.cpuMsPerRun} ms of CPU` });
    const cpuBefore = generation.isolate.cpuTime;
    try {
      const value = call();
      const used = Number(generation.isolate.cpuTime - cpuBefore) / 1e6;
      return used > this.limits.cpuMsPerRun && used - othersMs() > this.limits.cpuMsPerRun ? { fault: overBudget() } : { value };
    } catch (error) {
      if (generation.isolate.isDisposed) return { fault: { kind: 'memory', message: `the isolate ran out of memory (${this.limits.heapMb} MB)` } };
      const message = messageOf(error);
      if (message === TIMED_OUT) return { fault: overBudget() };
      return { fault: { kind: 'crash', message } };
    } finally {
      this.active = previous;
    }
  }

  private endRun(run: Run, fault: Omit<Fault, 'run' | 'at'> | undefined): Fault | undefined {
    const recorded = fault ?? (run.violation ? { kind: 'limit' as const, message: run.violation } : this.cpuShareFault());
    if (!recorded) return undefined;
    const full = this.fault(recorded, run.info);
    if (['memory', 'deadline', 'cpu', 'crash'].includes(recorded.kind) && !this.disabledReason) void this.recreate();
    return full;
  }

  private cpuShareFault(): Omit<Fault, 'run' | 'at'> | undefined {
    const generation = this.generation;
    if (!generation || generation.isolate.isDisposed) return undefined;
    const now = Date.now();
    // Checked at most every CPU_SHARE_CHECK_MS: runs come by the thousand per second.
    if (now - this.cpuShareCheckedAt < CPU_SHARE_CHECK_MS) return undefined;
    this.cpuShareCheckedAt = now;
    const used = Number(generation.isolate.cpuTime - this.cpuWindow.cpuAtStart) / 1e6;
    const elapsed = now - this.cpuWindow.start;
    if (elapsed >= 1000) this.cpuWindow = { start: now, cpuAtStart: generation.isolate.cpuTime };
    if (used > this.limits.cpuMsPerSecond * Math.max(1, elapsed / 1000))
      return { kind: 'cpu', message: `used ${Math.round(used)} ms of CPU in ${elapsed} ms (limit ${this.limits.cpuMsPerSecond} ms per second)` };
    return undefined;
  }

  private fault(fault: Omit<Fault, 'run' | 'at'>, run: RunInfo): Fault {
    const full: Fault = { ...fault, run, at: new Date() };
    this.options.onFault?.(full);
    const now = Date.now();
    this.faultTimes = [...this.faultTimes.filter((time) => now - time < this.limits.faultWindowMs), now];
    if (this.faultTimes.length >= this.limits.maxFaults)
      this.disable(`${this.faultTimes.length} faults within ${this.limits.faultWindowMs / 1000} s; the last: ${fault.message}`);
    return full;
  }

  private disable(reason: string): void {
    if (this.disabledReason) return;
    this.disabledReason = reason;
    this.teardown();
    this.options.onDisabled?.(reason);
  }

  private async recreate(): Promise<void> {
    this.teardown();
    if (this.disabledReason) return;
    const restarting = this.boot().finally(() => {
      if (this.restarting === restarting) this.restarting = undefined;
    });
    this.restarting = restarting;
    await restarting;
  }

  private teardown(): void {
    const generation = this.generation;
    this.generation = undefined;
    for (const run of this.runs.values()) finishRun(run, { aborted: true });
    if (generation) this.dispose(generation);
  }

  private dispose(generation: Generation): void {
    for (const timer of generation.timers.values()) clearTimeout(timer);
    generation.timers.clear();
    if (!generation.isolate.isDisposed) generation.isolate.dispose();
  }

  // ---- calls from the plugin ----------------------------------------------------------------

  private current(generationNumber: number): { generation: Generation; run: Run } | undefined {
    const generation = this.generation;
    if (!generation || generation.number !== generationNumber) return undefined;
    const batch = this.batch;
    if (batch) return { generation, run: batch[Math.min(Math.max(generation.progress[0]!, 0), batch.length - 1)]! };
    return this.active ? { generation, run: this.active } : undefined;
  }

  private serveCall(generationNumber: number, op: unknown, argsJson: unknown): string {
    const current = this.current(generationNumber);
    if (!current) return answer({ error: 'the plugin is not running' });
    try {
      const args = parseArgs(argsJson);
      return answer(this.call(current.generation, current.run, String(op), args, String(argsJson)));
    } catch (error) {
      return answer({ error: messageOf(error) });
    }
  }

  private call(generation: Generation, run: Run, op: string, args: Record<string, unknown>, argsJson: string): Outcome {
    switch (op) {
      case 'subscribe': {
        const eventType = String(args.eventType);
        if (!this.grants.receives(eventType))
          return { error: `not allowed to receive ${eventType} events (grant "events:${eventType}" is missing)` };
        generation.subscribed.add(eventType);
        return { result: null };
      }
      case 'overlay':
        return this.overlay(run, args, argsJson);
      case 'log':
        return this.log(run, args);
      case 'timer':
        return this.addTimer(generation, args);
      case 'clearTimer': {
        const id = Number(args.id);
        clearTimeout(generation.timers.get(id));
        generation.timers.delete(id);
        return { result: null };
      }
      case 'done': {
        const target = this.runs.get(Number(args.run));
        if (target) finishRun(target, { error: typeof args.error === 'string' ? args.error : undefined });
        return { result: null };
      }
      default:
        return { error: `unknown operation ${op}` };
    }
  }

  private overlay(run: Run, args: Record<string, unknown>, argsJson: string): Outcome {
    const channel = String(args.channel);
    if (!this.grants.writes(channel)) return { error: `not allowed to write to overlay channel "${channel}"` };
    const bytes = valueBytes(argsJson, args, 'data');
    if (bytes > this.limits.overlayMaxBytes) {
      run.violation ??= `an overlay message of ${bytes} bytes exceeds the limit of ${this.limits.overlayMaxBytes}`;
      return { error: run.violation };
    }
    // Parsed from the plugin's JSON just now: plain data, nothing shared with the isolate.
    this.options.services.overlay(channel, (args.data ?? null) as Json, args.kind === 'state' ? 'state' : 'message', run.info);
    return { result: null };
  }

  private log(run: Run, args: Record<string, unknown>): Outcome {
    const now = Date.now();
    this.logTokens = Math.min(this.limits.logBurst, this.logTokens + ((now - this.logRefilledAt) / 1000) * this.limits.logPerSecond);
    this.logRefilledAt = now;
    if (this.logTokens < 1) {
      run.violation ??= `more than ${this.limits.logPerSecond} log lines per second`;
      return { error: run.violation };
    }
    this.logTokens -= 1;
    const level = (['debug', 'info', 'warn', 'error'] as const).find((name) => name === args.level) ?? 'info';
    const fields = args.fields && typeof args.fields === 'object' ? (args.fields as Record<string, Json>) : undefined;
    this.options.services.log(level, String(args.message).slice(0, 4096), fields, run.info);
    return { result: null };
  }

  private addTimer(generation: Generation, args: Record<string, unknown>): Outcome {
    if (generation.timers.size >= this.limits.maxTimers) return { error: `more than ${this.limits.maxTimers} timers` };
    const id = ++this.nextTimer;
    const ms = Math.max(this.limits.minTimerMs, Math.min(2_147_483_647, Number(args.ms) || 0));
    const repeat = args.repeat === true;
    const fire = () => {
      if (this.generation !== generation) return;
      if (!repeat) generation.timers.delete(id);
      void this.run({ kind: 'timer' }, (current, runId) =>
        current.entries.fire.applySync(undefined, [runId, id], { timeout: this.entryTimeoutMs }),
      );
    };
    generation.timers.set(id, repeat ? setInterval(fire, ms) : setTimeout(fire, ms));
    return { result: id };
  }

  private serveRequest(generationNumber: number, id: unknown, op: unknown, argsJson: unknown): void {
    const current = this.current(generationNumber);
    if (!current) return;
    const { generation, run } = current;
    const respond = (outcome: Outcome) => {
      if (this.generation !== generation) return;
      const entered = this.enter(generation, run, () =>
        generation.entries.settle.applySync(undefined, [Number(id), answer(outcome)], { timeout: this.entryTimeoutMs }),
      );
      if (!('fault' in entered)) return;
      // A run still waiting ends with the fault; work the plugin left running after its run ended faults on its own.
      if (this.runs.has(run.id)) finishRun(run, { fault: entered.fault });
      else this.endRun(run, entered.fault);
    };
    let args: Record<string, unknown>;
    try {
      args = parseArgs(argsJson);
    } catch (error) {
      setImmediate(() => respond({ error: messageOf(error) }));
      return;
    }
    // Answers go back on a later turn of the event loop: a plugin awaiting host calls in a loop
    // must not turn into a microtask loop on the host that starves its timers and I/O.
    this.request(String(op), args, String(argsJson), run.info).then(
      (result) => setImmediate(() => respond({ result: result ?? null })),
      (error: unknown) => setImmediate(() => respond({ error: messageOf(error) })),
    );
  }

  private async request(op: string, args: Record<string, unknown>, argsJson: string, run: RunInfo): Promise<unknown> {
    const services = this.options.services;
    if (op.startsWith('kv.')) {
      if (!this.grants.kv) throw new Error('not allowed to use kv (grant "kv" is missing)');
      const key = String(args.key);
      if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw new Error(`a kv key has 1 to ${MAX_KEY_LENGTH} characters`);
      if (op === 'kv.get') return services.kvGet(key, run);
      if (op === 'kv.delete') return services.kvDelete(key, run);
      if (op === 'kv.set') {
        if (valueBytes(argsJson, args, 'value') > this.limits.kvValueMaxBytes) throw new Error(`a kv value is at most ${this.limits.kvValueMaxBytes} bytes`);
        return services.kvSet(key, (args.value ?? null) as Json, run);
      }
    }
    if (op === 'http.fetch') return services.fetch(this.httpCall(args), this.grants, run);
    throw new Error(`unknown operation ${op}`);
  }

  private httpCall(args: Record<string, unknown>): HttpCall {
    let url: URL;
    try {
      url = new URL(String(args.url));
    } catch {
      throw new Error(`not a URL: ${String(args.url).slice(0, 200)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`only http and https URLs can be fetched, not ${url.protocol}`);
    if (url.username || url.password) throw new Error('URLs with credentials cannot be fetched');
    if (!this.grants.fetchGrant(url)) throw new Error(`not allowed to fetch ${url.href} (no granted URL pattern matches)`);
    const init = (args.init && typeof args.init === 'object' ? args.init : {}) as Record<string, unknown>;
    const headers: Record<string, string> = {};
    if (init.headers && typeof init.headers === 'object')
      for (const [name, value] of Object.entries(init.headers as Record<string, unknown>)) headers[name.toLowerCase()] = String(value);
    const method = String(init.method ?? 'GET').toUpperCase();
    const body = typeof init.body === 'string' ? init.body : undefined;
    const sign = init.sign as { header?: unknown; secret?: unknown } | undefined;
    if (sign && typeof sign === 'object') {
      if (typeof sign.header !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(sign.header) || typeof sign.secret !== 'string' || sign.secret === '')
        throw new Error('sign needs a header name and a non-empty secret');
      headers[sign.header.toLowerCase()] = `sha256=${createHmac('sha256', sign.secret).update(body ?? '').digest('hex')}`;
    }
    return { url: url.href, method, headers, ...(body === undefined ? {} : { body }) };
  }
}

/**
 * UTF-8 size of `args[field]` as JSON, from the text the plugin sent rather than by serializing it
 * again: the whole text less the rest of the object. Keys the plugin added only make it larger.
 */
function valueBytes(argsJson: string, args: Record<string, unknown>, field: string): number {
  const rest = Buffer.byteLength(JSON.stringify({ ...args, [field]: null })) - 'null'.length;
  return Buffer.byteLength(argsJson) - rest;
}

/** What an entry answered about its run: ended cleanly, ended with an error, or still working. */
function runState(value: unknown): true | 'pending' | Omit<Fault, 'run' | 'at'> {
  const state = parseJson(value) as { done?: unknown; error?: unknown } | undefined;
  if (!state || typeof state !== 'object') return { kind: 'crash', message: 'the plugin replaced an entry point of the host' };
  if (state.done !== true) return 'pending';
  return typeof state.error === 'string' ? { kind: 'error', message: state.error } : true;
}

function parseJson(value: unknown): unknown {
  try {
    return JSON.parse(String(value));
  } catch {
    return undefined;
  }
}

function answer(outcome: Outcome): string {
  return JSON.stringify(outcome);
}

function parseArgs(argsJson: unknown): Record<string, unknown> {
  const parsed = JSON.parse(String(argsJson)) as unknown;
  if (!parsed || typeof parsed !== 'object') throw new Error('malformed call');
  return parsed as Record<string, unknown>;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
