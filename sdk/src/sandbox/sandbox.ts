/**
 * One plugin in its own isolated-vm isolate. The host side of every call the plugin makes is
 * served here through the operations table (`ops.ts`), where permissions and limits are checked
 * before a service is used; every answer crosses the boundary as a JSON string.
 *
 * A "run" is one call of the plugin — its setup, one event, one timer — plus the async work it
 * started, within the budgets of `budgets.ts`. Events go in batches: one entry into the isolate
 * handles several events while they finish synchronously and quickly (see `dispatchMany`).
 * A violation is a fault. Faults that leave the isolate unusable or busy (memory, deadline,
 * CPU share) recreate it: setup runs again, kv is kept. Too many faults in a window disable the
 * plugin.
 */
import type { EventType } from '../contract/constants.ts';
import { STORABLE_MAX_DEPTH, storableProblem, storableText } from '../storable-data.ts';
import { batchOutcome, enterDispatch, msBeforeCurrent, pickBatch } from './batch.ts';
import type { PluginBundle } from './bundle.ts';
import { answer, messageOf, parseArgs, runState, type Outcome } from './boundary.ts';
import { CpuShare, DEFAULT_LIMITS, endWithinDeadline, entryTimeoutMs, enterWithinBudget, LogBucket, OutputRates, type SandboxLimits } from './budgets.ts';
import { FaultWindow, recreatesIsolate, type Fault, type FaultReport } from './faults.ts';
import { createGeneration, disposeGeneration, PluginLoadError, type Generation } from './isolate.ts';
import { callOp, requestOp, type OpHost } from './ops.ts';
import { Grants } from './permissions.ts';
import { finishRun, Runs, type Run } from './runs.ts';
import type { RunInfo, SandboxServices } from './services.ts';
import { SourcePositions } from './source-positions.ts';

/** The plugin (see `bundlePlugin`; with its source map, its faults point at its own files) and how it runs. */
export interface SandboxOptions extends PluginBundle {
  pluginId: string;
  config: Record<string, unknown>;
  grants: readonly string[];
  services: SandboxServices;
  limits?: Partial<SandboxLimits>;
  onFault?(fault: Fault): void;
  onDisabled?(reason: string): void;
}

const NO_FAULT: Promise<undefined> = Promise.resolve(undefined);

export class PluginSandbox {
  readonly limits: SandboxLimits;
  readonly grants: Grants;
  private generation: Generation | undefined;
  private generations = 0;
  private nextTimer = 0;
  private readonly runs = new Runs();
  private readonly faults: FaultWindow;
  private readonly cpuShare: CpuShare;
  private readonly opHost: OpHost;
  private disabledReason: string | undefined;
  private config: Record<string, unknown>;
  private code: string;
  /** Where in the plugin's files the frames of its errors are. */
  private positions: SourcePositions;
  /** Set while the isolate is being recreated; events wait for it instead of being missed. */
  private restarting: Promise<void> | undefined;

  private constructor(private readonly options: SandboxOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.grants = new Grants(options.grants);
    this.faults = new FaultWindow(this.limits);
    this.cpuShare = new CpuShare(this.limits);
    this.config = options.config;
    this.code = options.code;
    this.positions = new SourcePositions(options.sourceMap);
    this.opHost = {
      grants: this.grants,
      limits: this.limits,
      services: options.services,
      logBucket: new LogBucket(this.limits),
      rates: new OutputRates(this.limits),
      runs: this.runs,
      violate: (run, reason) => this.violate(run, reason),
      pointAtSources: (text) => this.positions.rewrite(text),
      startTimer: (generation, ms, repeat) => this.startTimer(generation, ms, repeat),
    };
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

  /** True when no timer of the plugin is waiting to fire and none of its runs is still working. */
  get idle(): boolean {
    return !this.restarting && (this.generation?.timers.size ?? 0) === 0 && this.runs.size === 0;
  }

  private get entryTimeoutMs(): number {
    return entryTimeoutMs(this.limits);
  }

  /** The event types the plugin registered handlers for (`*` for all), as far as it is granted them. */
  get subscribed(): string[] {
    return this.disabledReason ? [] : [...(this.generation?.subscribed ?? [])];
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
   * `stop` is asked between entries: when it answers true, the events not yet handled are left.
   */
  async dispatchMany(events: ReadonlyArray<{ eventId: string; eventType: string }>, jsons: readonly string[], stop?: () => boolean): Promise<Fault[]> {
    const faults: Fault[] = [];
    let next = 0;
    while (next < events.length && !stop?.()) {
      if (this.restarting) await this.restarting;
      const generation = this.generation;
      if (!generation || this.disabledReason) break;
      const { picked, scanned } = pickBatch(events, next, (eventType) => this.wants(eventType));
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
  async reload(bundle: PluginBundle, config: Record<string, unknown> = this.config): Promise<void> {
    this.code = bundle.code;
    this.positions = new SourcePositions(bundle.sourceMap);
    this.config = config;
    this.faults.forgive();
    await this.recreate();
  }

  async close(): Promise<void> {
    this.teardown();
  }

  /**
   * Counts a fault the host found outside the isolate (the plugin fell too far behind, its output
   * could not be written) as the plugin's, towards disabling it like any other.
   */
  noteFault(report: FaultReport, run: RunInfo): Fault {
    return this.fault(report, run);
  }

  // ---- the isolate --------------------------------------------------------------------------

  private async boot(): Promise<void> {
    const number = ++this.generations;
    let generation: Generation;
    try {
      generation = await createGeneration(number, this.code, this.limits, {
        call: (op, argsJson) => this.serveCall(number, op, argsJson),
        request: (id, op, argsJson) => this.serveRequest(number, id, op, argsJson),
        failed: (message) => this.disable(`the isolate failed: ${message}`),
      });
    } catch (error) {
      if (error instanceof PluginLoadError) {
        const message = this.positions.rewrite(error.message);
        this.fault({ kind: error.kind, message }, { kind: 'setup' });
        this.disable(message);
      } else {
        // No isolate to run the plugin in (a heap limit too small for the prelude, say): the
        // plugin stops here, the host does not.
        this.disable(`the plugin's isolate could not be started: ${messageOf(error)}`);
      }
      return;
    }
    if (this.disabledReason) {
      disposeGeneration(generation);
      return;
    }
    this.generation = generation;
    this.cpuShare.restart(generation.isolate);
    await this.run({ kind: 'setup' }, (current, runId) =>
      current.entries.setup.applySync(undefined, [runId, JSON.stringify(this.config), this.pluginId], {
        timeout: this.entryTimeoutMs,
      }),
    );
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
    this.runs.abortAll();
    if (generation) disposeGeneration(generation);
  }

  private disable(reason: string): void {
    if (this.disabledReason) return;
    this.disabledReason = reason;
    this.teardown();
    this.options.onDisabled?.(reason);
  }

  private fault(report: FaultReport, run: RunInfo): Fault {
    // The message may quote the plugin (its errors): pointed at its files, kept as text the store can hold.
    const fault: Fault = { ...report, message: storableText(this.positions.rewrite(report.message)), run, at: new Date() };
    this.options.onFault?.(fault);
    const tooMany = this.faults.add(fault.message);
    if (tooMany) this.disable(tooMany);
    return fault;
  }

  // ---- runs ---------------------------------------------------------------------------------

  /**
   * One run (setup, a timer): the entry, then — only when the plugin left async work running —
   * waiting for it (up to the wall deadline).
   */
  private run(info: RunInfo, enter: (generation: Generation, runId: number) => unknown): Promise<Fault | undefined> {
    const generation = this.generation;
    if (!generation || this.disabledReason) return NO_FAULT;
    const run = this.runs.start(info);
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
      if (!waiting) this.runs.forget(run);
    }
  }

  /**
   * One entry into the isolate for up to `jsons.length` events (see the prelude's `dispatch`).
   * Answers how many it handled and their faults, after waiting for the async work the last one
   * left running. When the entry overran, the fault is the last event's: all but the entry's wall
   * time before that event started is its CPU.
   */
  private async runBatch(generation: Generation, eventIds: string[], jsons: string[]): Promise<{ handled: number; faults: Fault[] }> {
    const runs = eventIds.map((eventId) => this.runs.start({ kind: 'event', eventId }));
    const faults: Fault[] = [];
    const end = (run: Run, fault: FaultReport | undefined) => {
      const recorded = this.endRun(run, fault);
      if (recorded) faults.push(recorded);
    };
    let waiting: Run | undefined;
    try {
      const entered = this.runs.withinBatch(runs, () =>
        this.enter(
          generation,
          runs[0]!,
          () => enterDispatch(generation, runs[0]!.id, jsons, this.entryTimeoutMs),
          () => msBeforeCurrent(generation.progress, runs.length),
        ),
      );
      const { count, last } = batchOutcome(entered, generation.progress, runs.length);
      for (let i = 0; i < count - 1; i += 1) end(runs[i]!, undefined);
      const lastRun = runs[count - 1]!;
      if (last === 'pending') waiting = lastRun;
      else end(lastRun, last === true ? undefined : last);
      if (waiting) {
        const fault = await this.waitFor(waiting);
        if (fault) faults.push(fault);
      }
      return { handled: count, faults };
    } finally {
      for (const run of runs) if (run !== waiting) this.runs.forget(run);
    }
  }

  private async waitFor(run: Run): Promise<Fault | undefined> {
    try {
      const outcome = await endWithinDeadline(run, this.limits);
      if (outcome.aborted) return undefined;
      return this.endRun(run, outcome.fault ?? (outcome.error === undefined ? undefined : { kind: 'error', message: outcome.error }));
    } finally {
      this.runs.forget(run);
    }
  }

  /** Calls into the isolate with `run` as the current run; turns what went wrong into a fault. */
  private enter(generation: Generation, run: Run, call: () => unknown, othersMs?: () => number): { value: unknown } | { fault: FaultReport } {
    return this.runs.within(run, () => enterWithinBudget(generation.isolate, this.limits, call, othersMs));
  }

  private endRun(run: Run, fault: FaultReport | undefined): Fault | undefined {
    const recorded = fault ?? (run.violation ? { kind: 'limit' as const, message: run.violation } : this.cpuShareFault());
    if (!recorded) return undefined;
    const full = this.fault(recorded, run.info);
    if (recreatesIsolate(recorded.kind) && !this.disabledReason) void this.recreate();
    return full;
  }

  /** See `OpHost.violate`. A run still open has not been ended (`endRun`) yet: it reads `violation` then. */
  private violate(run: Run, reason: string): void {
    if (this.runs.has(run)) {
      run.violation ??= reason;
    } else if (run.violation === undefined) {
      run.violation = reason;
      this.fault({ kind: 'limit', message: reason }, run.info);
    }
  }

  private cpuShareFault(): FaultReport | undefined {
    return this.generation ? this.cpuShare.fault(this.generation.isolate) : undefined;
  }

  private startTimer(generation: Generation, ms: number, repeat: boolean): number {
    const id = ++this.nextTimer;
    const fire = () => {
      if (this.generation !== generation) return;
      if (!repeat) generation.timers.delete(id);
      void this.run({ kind: 'timer' }, (current, runId) => current.entries.fire.applySync(undefined, [runId, id], { timeout: this.entryTimeoutMs }));
    };
    generation.timers.set(id, repeat ? setInterval(fire, ms) : setTimeout(fire, ms));
    return id;
  }

  // ---- calls from the plugin ----------------------------------------------------------------

  private current(generationNumber: number): { generation: Generation; run: Run } | undefined {
    const generation = this.generation;
    if (!generation || generation.number !== generationNumber) return undefined;
    const run = this.runs.current(generation.progress);
    return run ? { generation, run } : undefined;
  }

  /**
   * The arguments of a call, or why they are refused (a limit fault of the run): longer than
   * `callMaxChars` — checked before they are parsed — or holding what the host cannot store or
   * pass on (see `storableProblem`).
   */
  private readArgs(op: unknown, argsJson: unknown): { args: Record<string, unknown>; argsJson: string } | { refused: string } {
    const json = String(argsJson);
    if (json.length > this.limits.callMaxChars) return { refused: `a call of ${json.length} characters exceeds the limit of ${this.limits.callMaxChars}` };
    const args = parseArgs(json);
    // A run's end carries the plugin's error as text: it only becomes a fault, whose text is made storable.
    if (op === 'done') return { args, argsJson: json };
    const problem = storableProblem(args, `the data passed to ${String(op).slice(0, 40)}`);
    if (problem) return { refused: `${problem} (plugin data is JSON without NUL characters or unpaired surrogates, at most ${STORABLE_MAX_DEPTH} levels deep)` };
    return { args, argsJson: json };
  }

  private serveCall(generationNumber: number, op: unknown, argsJson: unknown): string {
    const current = this.current(generationNumber);
    if (!current) return answer({ error: 'the plugin is not running' });
    try {
      const serve = callOp(op);
      if (!serve) return answer({ error: `unknown operation ${String(op)}` });
      const read = this.readArgs(op, argsJson);
      if ('refused' in read) {
        this.violate(current.run, read.refused);
        return answer({ error: read.refused });
      }
      return answer(serve(this.opHost, { ...current, ...read }));
    } catch (error) {
      return answer({ error: messageOf(error) });
    }
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
      if (this.runs.has(run)) finishRun(run, { fault: entered.fault });
      else this.endRun(run, entered.fault);
    };
    let read: ReturnType<PluginSandbox['readArgs']>;
    try {
      read = this.readArgs(op, argsJson);
    } catch (error) {
      setImmediate(() => respond({ error: messageOf(error) }));
      return;
    }
    if ('refused' in read) {
      const reason = read.refused;
      this.violate(run, reason);
      setImmediate(() => respond({ error: reason }));
      return;
    }
    const serve = requestOp(op);
    const served = serve ? serve(this.opHost, { generation, run, ...read }) : Promise.reject(new Error(`unknown operation ${String(op)}`));
    // Answers go back on a later turn of the event loop: a plugin awaiting host calls in a loop
    // must not turn into a microtask loop on the host that starves its timers and I/O.
    served.then(
      (result) => setImmediate(() => respond({ result: result ?? null })),
      (error: unknown) => setImmediate(() => respond({ error: messageOf(error) })),
    );
  }
}
