/**
 * Runs the enabled plugins: one sandbox each, fed by the `plugins` consumer group on the `events`
 * stream. Each plugin sees the events in stream order; plugins run side by side, and a batch is
 * acknowledged when every plugin is done with it (or faulted). What plugins do goes to the
 * services here: overlay messages to the `overlay` stream, kv to `plugin_kv`, http out through
 * the guarded fetcher — and every one of those side effects to `actions_log`. Overlay messages,
 * kv writes and action records are buffered and written together when a batch is done.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Json } from '@ttlp/sdk';
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import { missingPermissions, validatePluginConfig, type PluginManifest } from '@ttlp/sdk/manifest';
import { bundlePlugin, messageOf, PluginSandbox, type Fault, type HttpAnswer, type HttpCall, type RunInfo, type SandboxLimits } from '@ttlp/sdk/sandbox';
import type { Consumer, EventBus, OverlayMessage } from '../bus/types.ts';
import { errorSummary } from '../error-summary.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/database.ts';
import {
  getPluginRow,
  listPluginRows,
  logActions,
  recordPluginFault,
  registerPlugins,
  updatePlugin,
  type ActionRecord,
  type PluginRow,
} from '../store/plugins.ts';
import { discoverPlugins, readPlugin, type DiscoveredPlugin, type DiscoveryProblem } from './discovery.ts';
import { DEFAULT_HTTP_LIMITS, pluginFetch, type HttpLimits } from './http.ts';
import { KvCache } from './kv-cache.ts';

export const PLUGINS_GROUP = 'plugins';

export interface PluginHostOptions {
  store: Store;
  bus: EventBus;
  log: Logger;
  /** Folders whose sub-folders are plugins. */
  roots: string[];
  limits?: Partial<SandboxLimits>;
  httpLimits?: HttpLimits;
  /** How plugins reach the network; the guarded fetcher unless a test replaces it. */
  fetch?: (call: HttpCall, exactOrigins: Set<string>) => Promise<HttpAnswer>;
  /** Hears how long each plugin took for each batch, and of every fault (for metrics). */
  observer?: PluginObserver;
}

export interface PluginObserver {
  dispatched(pluginId: string, events: number, seconds: number): void;
  faulted(pluginId: string, kind: string): void;
}

export interface LoadedPlugin {
  dir: string;
  manifest: PluginManifest;
  sandbox: PluginSandbox;
}

/** How soon output made outside a batch (timers, late async work) is written. */
const FLUSH_DELAY_MS = 100;
/** Changes to a plugin's files within this long count as one (editors write in several steps). */
const RELOAD_DEBOUNCE_MS = 200;

export class PluginHost {
  private readonly running = new Map<string, LoadedPlugin>();
  private actions: ActionRecord[] = [];
  private overlay: Array<{ message: OverlayMessage; run: RunInfo }> = [];
  private readonly kv = new Map<string, KvCache>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Fault and state writes, in the order they happened (a later "disabled" must not be overtaken). */
  private stateWrites: Promise<unknown> = Promise.resolve();
  private consumer: Consumer | undefined;
  private readonly watchers: FSWatcher[] = [];
  private readonly applying = new Map<string, Promise<PluginRow | undefined>>();
  /** What each plugin runs with (enabled, settings, grants), as last applied from its row. */
  private readonly applied = new Map<string, string>();
  private storeWatch: NodeJS.Timeout | undefined;
  problems: DiscoveryProblem[] = [];
  available: DiscoveredPlugin[] = [];

  private constructor(private readonly options: PluginHostOptions) {}

  /** Discovers the plugins, registers new ones, and starts those that are enabled. */
  static async open(options: PluginHostOptions): Promise<PluginHost> {
    const host = new PluginHost(options);
    const discovery = discoverPlugins(options.roots);
    host.available = discovery.plugins;
    host.problems = discovery.problems;
    for (const problem of discovery.problems)
      options.log.warn({ dir: problem.dir, problems: problem.problems }, `plugin folder ${problem.dir} skipped: ${problem.problems.join('; ')}`);
    await registerPlugins(options.store, discovery.plugins.map((plugin) => plugin.manifest.id));
    const rows = new Map((await listPluginRows(options.store)).map((row) => [row.pluginId, row]));
    for (const plugin of discovery.plugins) {
      const row = rows.get(plugin.manifest.id);
      if (row?.enabled) await host.startPlugin(plugin, row);
      host.applied.set(plugin.manifest.id, appliedState(await getPluginRow(options.store, plugin.manifest.id)));
    }
    return host;
  }

  /** The running plugins, by id. */
  get loaded(): ReadonlyMap<string, LoadedPlugin> {
    return this.running;
  }

  /** Starts reading the `events` stream in the `plugins` group; resolves once the group exists. */
  async start(consumer: string, settings: { batchSize?: number; blockMs?: number; maxDeliveries?: number; claimIdleMs?: number } = {}): Promise<Consumer> {
    this.consumer = this.options.bus.consume({
      stream: 'events',
      group: PLUGINS_GROUP,
      consumer,
      stage: 'plugins',
      // Plugins react to what happens from now on: a first start must not replay the stream's history to them.
      startAt: 'end',
      batchSize: settings.batchSize ?? 200,
      blockMs: settings.blockMs,
      maxDeliveries: settings.maxDeliveries,
      claimIdleMs: settings.claimIdleMs,
      handler: async (entries) =>
        this.dispatch(
          entries.map((entry) => entry.payload),
          entries.map((entry) => entry.text),
        ),
      onError: (error) => this.options.log.error({ err: errorSummary(error) }, `events could not be dispatched to the plugins: ${errorSummary(error)}`),
    });
    await this.consumer.ready();
    return this.consumer;
  }

  /**
   * Gives `events` to every running plugin, each in order; resolves when all are done. `texts` are
   * their JSON as read from the bus (admitted against the contract there), so they need not be serialized again.
   */
  async dispatch(events: UnifiedEvent[], texts?: string[]): Promise<void> {
    if (events.length === 0 || this.running.size === 0) return;
    const serialized = texts ?? events.map((event) => JSON.stringify(event));
    await Promise.all(
      [...this.running.values()].map(async ({ sandbox }) => {
        const started = performance.now();
        await sandbox.dispatchMany(events, serialized);
        this.options.observer?.dispatched(sandbox.pluginId, events.length, (performance.now() - started) / 1000);
      }),
    );
    // The batch is acknowledged after this: what its events caused is written first.
    await this.flush();
  }

  /**
   * Development mode: rebuilds and restarts a running plugin when its files change, keeping its
   * kv. A change that does not build, or asks for permissions not granted, leaves the running
   * version alone and says why. `onReload` hears of every attempt.
   */
  watch(onReload?: (pluginId: string, error?: string) => void): void {
    for (const { dir, manifest } of this.running.values()) {
      let pending: NodeJS.Timeout | undefined;
      const watcher = watch(dir, { recursive: true }, (_event, file) => {
        if (file && /(^|[\\/])(node_modules|\.git)([\\/]|$)/.test(String(file))) return;
        clearTimeout(pending);
        pending = setTimeout(() => {
          this.reload(manifest.id, dir).then(
            (error) => onReload?.(manifest.id, error),
            (error: unknown) => onReload?.(manifest.id, messageOf(error)),
          );
        }, RELOAD_DEBOUNCE_MS);
      });
      this.watchers.push(watcher);
    }
  }

  /**
   * Brings one plugin in line with its stored row while the host runs (after the API enabled,
   * disabled or reconfigured it): stopped, then started again if it is enabled, kv kept.
   * Changes to one plugin are applied one at a time. Returns the row as it is afterwards.
   */
  apply(pluginId: string): Promise<PluginRow | undefined> {
    const previous = this.applying.get(pluginId) ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => this.restart(pluginId));
    this.applying.set(pluginId, next);
    return next;
  }

  private async restart(pluginId: string): Promise<PluginRow | undefined> {
    const plugin = this.available.find((candidate) => candidate.manifest.id === pluginId);
    if (!plugin) return undefined;
    const running = this.running.get(pluginId);
    if (running) {
      this.running.delete(pluginId);
      await running.sandbox.close();
      await this.kv.get(pluginId)?.flush();
    }
    const row = await getPluginRow(this.options.store, pluginId);
    if (row?.enabled) await this.startPlugin(plugin, row);
    else if (running) this.options.log.child({ plugin: pluginId }).info(`plugin ${pluginId} stopped: it was disabled`);
    await this.stateWrites;
    const after = await getPluginRow(this.options.store, pluginId);
    this.applied.set(pluginId, appliedState(after));
    return after;
  }

  /**
   * Applies changes other processes make to the plugins' rows (another host's API, `ttlp plugin`
   * on a shared database): every `intervalMs`, a plugin whose row no longer says what it runs
   * with is restarted (or stopped) as `apply` does.
   */
  followStore(intervalMs: number): void {
    clearInterval(this.storeWatch);
    let checking = false;
    this.storeWatch = setInterval(() => {
      if (checking) return;
      checking = true;
      this.changedPlugins()
        .then((changed) => Promise.all(changed.map((pluginId) => this.apply(pluginId))))
        .catch((error: unknown) => this.options.log.warn({ err: errorSummary(error) }, `plugin changes could not be read (${errorSummary(error)}); will try again`))
        .finally(() => (checking = false));
    }, intervalMs);
    this.storeWatch.unref();
  }

  private async changedPlugins(): Promise<string[]> {
    const rows = new Map((await listPluginRows(this.options.store)).map((row) => [row.pluginId, row]));
    return this.available
      .map((plugin) => plugin.manifest.id)
      .filter((pluginId) => appliedState(rows.get(pluginId)) !== this.applied.get(pluginId));
  }

  /** Rebuilds one running plugin from its folder; returns why it could not, if it could not. */
  private async reload(pluginId: string, dir: string): Promise<string | undefined> {
    const loaded = this.running.get(pluginId);
    if (!loaded) return 'the plugin is not running';
    const log = this.options.log.child({ plugin: pluginId });
    const found = readPlugin(dir);
    const refuse = (reason: string) => {
      log.error({ reason }, `plugin ${pluginId} not reloaded, the running version stays: ${reason}`);
      return reason;
    };
    if ('problems' in found) return refuse(found.problems.join('; '));
    if (found.manifest.id !== pluginId) return refuse(`the manifest id changed to "${found.manifest.id}"; restart the host to load it`);
    const built = await this.build(found, await getPluginRow(this.options.store, pluginId));
    if ('problem' in built) return refuse(built.problem);
    await loaded.sandbox.reload(built.code, built.config);
    loaded.manifest = found.manifest;
    log.info({ version: found.manifest.version }, `plugin ${pluginId} reloaded (version ${found.manifest.version})`);
    return undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.storeWatch);
    for (const watcher of this.watchers.splice(0)) watcher.close();
    await this.consumer?.stop();
    for (const plugin of this.running.values()) await plugin.sandbox.close();
    this.running.clear();
    clearTimeout(this.flushTimer);
    await this.stateWrites;
    await this.flush().catch((error: unknown) => this.options.log.error({ err: errorSummary(error) }, `plugin output could not be written: ${errorSummary(error)}`));
  }

  /**
   * Writes the plugins' buffered output: overlay messages to the bus (in order, one call), kv
   * changes (two statements per plugin), and the actions log. One flush at a time.
   */
  private flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const next = this.flushing.catch(() => undefined).then(() => this.writeOutput());
    this.flushing = next;
    return next;
  }

  private async writeOutput(): Promise<void> {
    const overlay = this.overlay;
    this.overlay = [];
    if (overlay.length > 0) {
      try {
        await this.options.bus.publishMany('overlay', overlay.map((entry) => entry.message));
      } catch (error) {
        this.overlay = [...overlay, ...this.overlay];
        throw error;
      }
      for (const { message, run } of overlay) this.record(message.pluginId, run, `overlay:${message.channel}`, 'ok');
    }
    for (const cache of this.kv.values()) await cache.flush();
    const records = this.actions;
    this.actions = [];
    try {
      await logActions(this.options.store, records);
    } catch (error) {
      this.actions = [...records, ...this.actions];
      throw error;
    }
  }

  /** Output made outside a batch is written shortly after. */
  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      this.flush().catch((error: unknown) => {
        this.options.log.error({ err: errorSummary(error) }, `plugin output could not be written (${errorSummary(error)}); retrying`);
        this.scheduleFlush();
      });
    }, FLUSH_DELAY_MS).unref();
  }

  private persist(log: Logger, what: string, work: () => Promise<unknown>): void {
    this.stateWrites = this.stateWrites.then(work).catch((error: unknown) => log.error({ err: errorSummary(error) }, `${what} could not be recorded: ${errorSummary(error)}`));
  }

  /**
   * What starting (or reloading) a plugin needs: every requested permission granted (an update
   * may ask for more), settings that fit its schema, and a bundle that builds.
   */
  private async build(plugin: DiscoveredPlugin, row: PluginRow | undefined): Promise<{ code: string; config: Record<string, unknown> } | { problem: string }> {
    const missing = missingPermissions(plugin.manifest, row?.grantedPermissions ?? []);
    if (missing.length > 0) return { problem: `needs permissions that were not granted: ${missing.join(', ')}` };
    const config = validatePluginConfig(plugin.manifest, row?.config ?? {});
    if (!config.ok) return { problem: `invalid config: ${config.problems.join('; ')}` };
    try {
      return { code: await bundlePlugin(plugin.dir, plugin.manifest.entry), config: config.config };
    } catch (error) {
      return { problem: messageOf(error) };
    }
  }

  private async startPlugin(plugin: DiscoveredPlugin, row: PluginRow): Promise<void> {
    const { manifest } = plugin;
    const pluginId = manifest.id;
    const log = this.options.log.child({ plugin: pluginId });
    const built = await this.build(plugin, row);
    if ('problem' in built) {
      await updatePlugin(this.options.store, pluginId, { enabled: false, status: 'disabled', lastError: built.problem });
      log.warn({ reason: built.problem }, `plugin ${pluginId} disabled: ${built.problem}`);
      return;
    }
    const sandbox = await PluginSandbox.start({
      pluginId,
      code: built.code,
      config: built.config,
      grants: row.grantedPermissions,
      limits: this.options.limits,
      services: this.services(pluginId, log),
      onFault: (fault) => this.onFault(pluginId, fault, log),
      onDisabled: (reason) => this.onDisabled(pluginId, reason, log),
    });
    if (sandbox.disabled) return;
    this.running.set(pluginId, { dir: plugin.dir, manifest, sandbox });
    await updatePlugin(this.options.store, pluginId, { status: 'enabled' });
    log.info({ version: manifest.version }, `plugin ${pluginId} started (version ${manifest.version})`);
  }

  private services(pluginId: string, log: Logger) {
    const fetch = this.options.fetch ?? ((call: HttpCall, origins: Set<string>) => pluginFetch(call, origins, this.options.httpLimits ?? DEFAULT_HTTP_LIMITS));
    const kv = new KvCache(this.options.store, pluginId, () => this.scheduleFlush());
    // A terminal line names the plugin whose words it shows (log.ts), so they cannot pass for the host's.
    const authored = log.child({ author: pluginId });
    this.kv.set(pluginId, kv);
    return {
      overlay: (channel: string, data: unknown, kind: 'message' | 'state', run: RunInfo) => {
        const message: OverlayMessage = { pluginId, channel, kind, data, ...(run.eventId ? { eventId: run.eventId } : {}), at: new Date().toISOString() };
        this.overlay.push({ message, run });
        this.scheduleFlush();
      },
      log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown> | undefined) =>
        // Under a key of their own: a plugin's fields cannot pass for the host's (`plugin`, `level`, `msg`).
        authored[level](fields ? { fields } : {}, message),
      kvGet: (key: string) => kv.get(key),
      kvSet: async (key: string, value: Json, run: RunInfo) => {
        kv.set(key, value);
        this.record(pluginId, run, 'kv.set', 'ok');
      },
      kvDelete: async (key: string, run: RunInfo) => {
        kv.set(key, undefined);
        this.record(pluginId, run, 'kv.delete', 'ok');
      },
      fetch: async (call: HttpCall, grants: { exactOrigins(): Set<string> }, run: RunInfo) => {
        const started = performance.now();
        const action = `http:${call.method} ${call.url}`;
        try {
          const answer = await fetch(call, grants.exactOrigins());
          this.record(pluginId, run, action, answer.status < 400 ? 'ok' : 'error', {
            durationMs: Math.round(performance.now() - started),
            ...(answer.status < 400 ? {} : { error: `HTTP ${answer.status}` }),
          });
          return answer;
        } catch (error) {
          this.record(pluginId, run, action, 'error', { durationMs: Math.round(performance.now() - started), error: messageOf(error) });
          throw error;
        }
      },
    };
  }

  private record(pluginId: string, run: RunInfo, action: string, status: 'ok' | 'error', extra: Partial<ActionRecord> = {}): void {
    this.actions.push({ pluginId, action, status, ...(run.eventId ? { eventId: run.eventId } : {}), ...extra });
    this.scheduleFlush();
  }

  private onFault(pluginId: string, fault: Fault, log: Logger): void {
    const where = fault.run.eventId ? `event ${fault.run.eventId}` : fault.run.kind;
    // A plugin's error is its stack: the message keeps the first line, the `error` field all of it.
    log.warn({ kind: fault.kind, run: fault.run, error: fault.message }, `plugin ${pluginId}: ${fault.kind} fault in ${where}: ${errorSummary(fault.message)}`);
    this.options.observer?.faulted(pluginId, fault.kind);
    this.persist(log, `the fault of plugin ${pluginId}`, () => recordPluginFault(this.options.store, pluginId, `${fault.kind}: ${fault.message}`));
  }

  private onDisabled(pluginId: string, reason: string, log: Logger): void {
    this.running.delete(pluginId);
    log.error({ reason }, `plugin ${pluginId} disabled: ${errorSummary(reason)}`);
    this.persist(log, `disabling plugin ${pluginId}`, () => updatePlugin(this.options.store, pluginId, { enabled: false, status: 'disabled', lastError: reason }));
  }
}

/** The parts of a plugin's row that decide how it runs (its status and faults do not). */
function appliedState(row: PluginRow | undefined): string {
  return row ? JSON.stringify([row.enabled, row.config, row.grantedPermissions]) : '';
}
