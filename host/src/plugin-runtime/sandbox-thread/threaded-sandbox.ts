/**
 * A plugin's sandbox in a worker thread of its own, seen from the plugin host: the same use as
 * `PluginSandbox` (start, dispatch, reload, close), but the isolate is entered on the worker's
 * thread. However long the plugin's code runs, this thread — the API, the overlay hub, the
 * pipeline, the other plugins — goes on; what the plugin's calls reach (overlay, kv, http, logs)
 * is still served here, by the services given.
 */
import { Worker } from 'node:worker_threads';
import type { Json } from '@ttlp/sdk';
import { DEFAULT_LIMITS, Grants, messageOf, type Fault, type FaultReport, type HttpAnswer, type PluginBundle, type RunInfo, type SandboxLimits, type SandboxServices } from '@ttlp/sdk/sandbox';
import type { FromWorker, PluginOutput, ServiceAnswer, ServiceRequest, ToWorker, WorkerStart } from './messages.ts';

export interface ThreadedSandboxOptions extends WorkerStart {
  services: SandboxServices;
  onFault?(fault: Fault): void;
  onDisabled?(reason: string): void;
}

type Done = Extract<FromWorker, { type: 'done' }>;

/**
 * The worker's own heap (not the plugin's isolate, which has `heapMb`): the events in flight and
 * the plugin's output on its way here. A worker past it is stopped and the plugin disabled.
 */
const WORKER_HEAP_MB = 128;

/** How long a closing plugin may take to end its runs before its worker is stopped. */
const CLOSE_GRACE_MS = 2_000;

/** The worker runs the TypeScript sources as the host does: through tsx's loader, registered in the worker. */
const BOOT = (() => {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
})();

export class ThreadedSandbox {
  readonly limits: SandboxLimits;
  readonly grants: Grants;
  private readonly worker: Worker;
  private subscribed = new Set<string>();
  private disabledReason: string | undefined;
  private nextCommand = 0;
  private readonly commands = new Map<number, (done: Done | undefined) => void>();
  /** The dispatch in hand, which `stopDispatch` can cut short. */
  private dispatching: number | undefined;
  private exited = false;
  private closing = false;

  private constructor(private readonly options: ThreadedSandboxOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.grants = new Grants(options.grants);
    const { pluginId, code, sourceMap, config, grants, limits } = options;
    const start: WorkerStart = { pluginId, code, sourceMap, config, grants, limits };
    this.worker = new Worker(BOOT, { eval: true, workerData: start, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
  }

  /** Starts the worker and the plugin's setup in it; a plugin that cannot start is disabled, not thrown. */
  static async start(options: ThreadedSandboxOptions): Promise<ThreadedSandbox> {
    const sandbox = new ThreadedSandbox(options);
    await sandbox.started();
    return sandbox;
  }

  get pluginId(): string {
    return this.options.pluginId;
  }

  get disabled(): string | undefined {
    return this.disabledReason;
  }

  /** True when the plugin is granted `eventType` and registered a handler that receives it. */
  wants(eventType: string): boolean {
    if (this.disabledReason || !this.grants.receives(eventType)) return false;
    return this.subscribed.has(eventType) || this.subscribed.has('*');
  }

  /**
   * Runs the plugin's handlers for the events it wants (their JSON in `jsons`), in order, in its
   * worker; resolves with the faults once the plugin is done with them. Never rejects.
   */
  async dispatchMany(events: ReadonlyArray<{ eventId: string; eventType: string }>, jsons: readonly string[]): Promise<Fault[]> {
    const picked: number[] = [];
    for (let i = 0; i < events.length; i += 1) if (this.wants(events[i]!.eventType)) picked.push(i);
    if (picked.length === 0) return [];
    const id = ++this.nextCommand;
    this.dispatching = id;
    const done = await this.command({
      type: 'dispatch',
      id,
      events: picked.map((i) => ({ eventId: events[i]!.eventId, eventType: events[i]!.eventType })),
      jsons: picked.map((i) => jsons[i]!),
    });
    if (this.dispatching === id) this.dispatching = undefined;
    return done?.faults ?? [];
  }

  /** The dispatch in hand stops after the event the plugin is handling; the rest are not handled. */
  stopDispatch(): void {
    if (this.dispatching !== undefined) this.post({ type: 'stop-dispatch', id: this.dispatching });
  }

  /** Counts a fault the host found (see `PluginSandbox.noteFault`); the plugin host hears of it through `onFault`. */
  async noteFault(report: FaultReport, run: RunInfo): Promise<void> {
    await this.command({ type: 'fault', id: ++this.nextCommand, ...report, run });
  }

  /** Restarts the plugin on new code (a rebuilt bundle), keeping its kv; past faults are forgiven. */
  async reload(bundle: PluginBundle, config: Record<string, unknown>): Promise<void> {
    await this.command({ type: 'reload', id: ++this.nextCommand, bundle, config });
  }

  /**
   * Stops the plugin and its worker. The plugin closes what it opened, then the worker ends by
   * itself once its isolates are gone: terminating it while isolated-vm still winds down can abort
   * the whole process. Only a worker that does not answer, or does not end, in time is terminated.
   */
  async close(): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    let grace: NodeJS.Timeout | undefined;
    const timeUp = () => new Promise<'late'>((resolve) => (grace = setTimeout(() => resolve('late'), CLOSE_GRACE_MS)));
    const answered = await Promise.race([this.command({ type: 'close', id: ++this.nextCommand }), timeUp()]);
    clearTimeout(grace);
    const ended = answered === 'late' ? 'late' : await Promise.race([exited.then(() => 'ended' as const), timeUp()]);
    clearTimeout(grace);
    if (ended === 'late' && !this.exited) await this.worker.terminate();
  }

  // ---- the worker ---------------------------------------------------------------------------

  private started(): Promise<void> {
    return new Promise((resolve) => {
      this.worker.on('message', (message: FromWorker) => {
        if (message.type === 'started') {
          this.subscribed = new Set(message.subscribed);
          if (message.disabled) this.disabledReason ??= message.disabled;
          resolve();
        } else this.receive(message);
      });
      this.worker.on('error', (error) => this.stopped(`its worker failed: ${messageOf(error)}`));
      this.worker.on('exit', (code) => {
        this.exited = true;
        this.stopped(`its worker stopped (exit code ${code})`);
        resolve();
      });
    });
  }

  /** The worker is gone: commands in flight end, and a plugin that was not being closed is disabled. */
  private stopped(reason: string): void {
    for (const answer of this.commands.values()) answer(undefined);
    this.commands.clear();
    if (!this.closing) this.disable(reason);
  }

  private disable(reason: string): void {
    if (this.disabledReason) return;
    this.disabledReason = reason;
    this.options.onDisabled?.(reason);
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case 'output':
        for (const item of message.items) this.output(item);
        return;
      case 'done': {
        this.subscribed = new Set(message.subscribed);
        const answer = this.commands.get(message.id);
        this.commands.delete(message.id);
        answer?.(message);
        return;
      }
      case 'crashed':
        this.disable(`its worker failed: ${message.message}`);
        void this.worker.terminate();
        return;
      case 'started':
        return;
    }
  }

  private output(item: PluginOutput): void {
    const { services } = this.options;
    switch (item.type) {
      case 'overlay':
        return services.overlay(item.channel, item.data, item.kind, item.run);
      case 'log':
        return services.log(item.level, item.message, item.fields, item.run);
      case 'fault':
        return this.options.onFault?.(item.fault);
      case 'disabled':
        return this.disable(item.reason);
      case 'request':
        this.serve(item.request, item.run).then(
          (result) => this.answer(item.id, { result: result ?? null }),
          (error: unknown) => this.answer(item.id, { error: { name: error instanceof Error ? error.name : 'Error', message: messageOf(error) } }),
        );
        return;
    }
  }

  private serve(request: ServiceRequest, run: RunInfo): Promise<Json | HttpAnswer | undefined | void> {
    const { services } = this.options;
    switch (request.service) {
      case 'kvGet':
        return services.kvGet(request.key, run);
      case 'kvSet':
        return services.kvSet(request.key, request.value, run);
      case 'kvDelete':
        return services.kvDelete(request.key, run);
      case 'fetch':
        return services.fetch(request.call, this.grants, run);
    }
  }

  private answer(id: number, answer: ServiceAnswer): void {
    this.post({ type: 'answer', id, answer });
  }

  private command(message: Extract<ToWorker, { id: number }>): Promise<Done | undefined> {
    if (this.exited) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.commands.set(message.id, resolve);
      this.post(message);
    });
  }

  private post(message: ToWorker): void {
    if (!this.exited) this.worker.postMessage(message);
  }
}
