/**
 * Runs the enabled plugins: each in a worker thread of its own (sandbox-thread/), each reading the
 * `events` stream at its own pace in a consumer group of its own (`plugin:<id>`), so a slow or
 * stuck plugin falls behind alone. A plugin too far behind skips ahead to the newest events, and
 * the gap counts as its fault. What plugins do goes to the services here: overlay messages to the
 * `overlay` stream, kv to `plugin_kv`, http out through the guarded fetcher — and every one of
 * those side effects to `actions_log` (plugin-output.ts), written before the plugin's batch is
 * acknowledged.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Json } from '@ttlp/sdk';
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import { missingPermissions, validatePluginConfig, type PluginManifest } from '@ttlp/sdk/manifest';
import { bundlePlugin, DEFAULT_LIMITS, messageOf, type Fault, type HttpAnswer, type HttpCall, type RunInfo, type SandboxLimits, type SandboxServices } from '@ttlp/sdk/sandbox';
import { compareStreamIds } from '../bus/streams.ts';
import type { BusEntry, Consumer, EventBus } from '../bus/types.ts';
import { errorSummary } from '../error-summary.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/database.ts';
import { getPluginRow, listPluginRows, recordPluginFault, registerPlugins, updatePlugin, type PluginRow } from '../store/plugins.ts';
import { discoverPlugins, readPlugin, type DiscoveredPlugin, type DiscoveryProblem } from './discovery.ts';
import { DEFAULT_HTTP_LIMITS, pluginFetch, type HttpLimits } from './http.ts';
import { PluginOutput } from './plugin-output.ts';
import { ThreadedSandbox } from './sandbox-thread/threaded-sandbox.ts';

/** The consumer group in which `pluginId` reads the `events` stream. */
export function pluginGroup(pluginId: string): string {
  return `plugin:${pluginId}`;
}

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
  /** Hears how long each plugin took for each batch, how far behind it is, and of every fault (for metrics). */
  observer?: PluginObserver;
  /** Events a plugin may have left to handle before it skips ahead to the newest. Default 5,000. */
  maxLagEvents?: number;
  /** How often each plugin's lag is measured. Default 1,000 ms. */
  lagCheckMs?: number;
}

export interface PluginObserver {
  dispatched(pluginId: string, events: number, seconds: number): void;
  faulted(pluginId: string, kind: string): void;
  /** How many events of the stream `pluginId` has yet to handle. */
  lagged?(pluginId: string, events: number): void;
  /** Events `pluginId` skipped because it was too far behind. */
  skipped?(pluginId: string, events: number): void;
}

/** How the plugins read the `events` stream (see `ConsumerOptions`). */
export interface FeedSettings {
  batchSize?: number;
  blockMs?: number;
  maxDeliveries?: number;
  claimIdleMs?: number;
}

export interface LoadedPlugin {
  dir: string;
  manifest: PluginManifest;
  sandbox: ThreadedSandbox;
  output: PluginOutput;
  /** Its reader of the `events` stream, once the host reads it. */
  feed?: Consumer;
  /** Events it has yet to handle, as last measured. */
  lag: number;
  /** While it skips ahead: the newest event when it was found too far behind. */
  skipTo?: string;
}

/** Changes to a plugin's files within this long count as one (editors write in several steps). */
const RELOAD_DEBOUNCE_MS = 200;
const DEFAULT_MAX_LAG_EVENTS = 5_000;
const DEFAULT_LAG_CHECK_MS = 1_000;

export class PluginHost {
  private readonly running = new Map<string, LoadedPlugin>();
  /** Fault and state writes, in the order they happened (a later "disabled" must not be overtaken). */
  private stateWrites: Promise<unknown> = Promise.resolve();
  /** How the plugins read the stream, once `start` was called. */
  private feedSettings: (FeedSettings & { consumer: string }) | undefined;
  private readonly watchers: FSWatcher[] = [];
  private readonly applying = new Map<string, Promise<PluginRow | undefined>>();
  /** What each plugin runs with (enabled, settings, grants), as last applied from its row. */
  private readonly applied = new Map<string, string>();
  private storeWatch: NodeJS.Timeout | undefined;
  private lagWatch: NodeJS.Timeout | undefined;
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
    await Promise.all(
      discovery.plugins.map(async (plugin) => {
        const row = rows.get(plugin.manifest.id);
        if (row?.enabled) await host.startPlugin(plugin, row);
        host.applied.set(plugin.manifest.id, appliedState(await getPluginRow(options.store, plugin.manifest.id)));
      }),
    );
    return host;
  }

  /** The running plugins, by id. */
  get loaded(): ReadonlyMap<string, LoadedPlugin> {
    return this.running;
  }

  /**
   * Starts every running plugin (and each one started later) reading the `events` stream in its
   * own group, as `consumer`; resolves once their groups exist. Also starts measuring their lag.
   */
  async start(consumer: string, settings: FeedSettings = {}): Promise<void> {
    this.feedSettings = { ...settings, consumer };
    await Promise.all([...this.running.values()].map((plugin) => this.startFeed(plugin)));
    clearInterval(this.lagWatch);
    let measuring = false;
    this.lagWatch = setInterval(() => {
      if (measuring) return;
      measuring = true;
      void this.measureLag().finally(() => (measuring = false));
    }, this.options.lagCheckMs ?? DEFAULT_LAG_CHECK_MS);
    this.lagWatch.unref();
  }

  /** True once every running plugin has handled (or skipped) the events up to and including `id`. */
  async processed(id: string): Promise<boolean> {
    for (const pluginId of this.running.keys()) if (!(await this.options.bus.processed('events', pluginGroup(pluginId), id))) return false;
    return true;
  }

  /** Events `pluginId` has yet to handle, as last measured; undefined when it is not running. */
  lagOf(pluginId: string): number | undefined {
    return this.running.get(pluginId)?.lag;
  }

  /**
   * Gives `events` to every running plugin, each in order, and writes what they did; resolves when
   * all are done. `texts` are their JSON as read from the bus (admitted against the contract
   * there), so they need not be serialized again. (The host itself feeds each plugin from its own
   * group; this is for tools and tests that hand events over directly.)
   */
  async dispatch(events: UnifiedEvent[], texts?: string[]): Promise<void> {
    if (events.length === 0) return;
    const serialized = texts ?? events.map((event) => JSON.stringify(event));
    await Promise.all([...this.running.values()].map((plugin) => this.handle(plugin, events, serialized)));
  }

  private async handle(plugin: LoadedPlugin, events: UnifiedEvent[], texts: string[]): Promise<void> {
    const started = performance.now();
    await plugin.sandbox.dispatchMany(events, texts);
    this.options.observer?.dispatched(plugin.sandbox.pluginId, events.length, (performance.now() - started) / 1000);
    // The batch is acknowledged after this: what its events caused is written first.
    await plugin.output.flush();
  }

  private async startFeed(plugin: LoadedPlugin): Promise<void> {
    const settings = this.feedSettings;
    if (!settings || plugin.feed) return;
    const pluginId = plugin.sandbox.pluginId;
    plugin.feed = this.options.bus.consume({
      stream: 'events',
      group: pluginGroup(pluginId),
      consumer: settings.consumer,
      stage: pluginGroup(pluginId),
      // A plugin reacts to what happens from when it is switched on: its first start must not replay the stream's history to it.
      startAt: 'end',
      batchSize: settings.batchSize ?? 200,
      blockMs: settings.blockMs,
      maxDeliveries: settings.maxDeliveries,
      claimIdleMs: settings.claimIdleMs,
      handler: (entries) => this.feed(plugin, entries),
      onError: (error) =>
        this.options.log.error({ plugin: pluginId, err: errorSummary(error) }, `events could not be dispatched to plugin ${pluginId}: ${errorSummary(error)}`),
    });
    await plugin.feed.ready();
  }

  /** One batch read by the plugin's own consumer: handled, or acknowledged unseen while it skips ahead. */
  private async feed(plugin: LoadedPlugin, entries: Array<BusEntry<UnifiedEvent>>): Promise<void> {
    const skipTo = plugin.skipTo;
    if (skipTo) {
      const behind = entries.filter((entry) => compareStreamIds(entry.id, skipTo) <= 0).length;
      if (behind < entries.length) plugin.skipTo = undefined;
      entries = entries.slice(behind);
    }
    if (entries.length === 0) return;
    await this.handle(
      plugin,
      entries.map((entry) => entry.payload),
      entries.map((entry) => entry.text),
    );
  }

  /**
   * Measures how far behind each running plugin is. One too far behind skips ahead: the event in
   * hand is the last it handles, it goes on from the newest event, and the gap is its fault.
   */
  private async measureLag(): Promise<void> {
    const maxLag = this.options.maxLagEvents ?? DEFAULT_MAX_LAG_EVENTS;
    for (const plugin of this.running.values()) {
      if (!plugin.feed || plugin.skipTo) continue;
      const pluginId = plugin.sandbox.pluginId;
      try {
        plugin.lag = await this.options.bus.backlog('events', pluginGroup(pluginId));
        this.options.observer?.lagged?.(pluginId, plugin.lag);
        if (plugin.lag <= maxLag) continue;
        plugin.skipTo = await this.options.bus.lastId('events');
      } catch (error) {
        this.options.log.warn({ plugin: pluginId, err: errorSummary(error) }, `the lag of plugin ${pluginId} could not be measured: ${errorSummary(error)}`);
        continue;
      }
      plugin.sandbox.stopDispatch();
      this.options.observer?.skipped?.(pluginId, plugin.lag);
      void plugin.sandbox.noteFault({ kind: 'limit', message: `fell ${plugin.lag} events behind (at most ${maxLag}); skipped ahead to the newest` }, { kind: 'event' });
    }
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
    const row = await getPluginRow(this.options.store, pluginId);
    // Switched off, its place in the stream goes too: switched on again, it starts from then.
    if (running) await this.stopPlugin(running, { forget: !row?.enabled });
    if (row?.enabled) await this.startPlugin(plugin, row);
    else if (running) this.options.log.child({ plugin: pluginId }).info(`plugin ${pluginId} stopped: it was disabled`);
    await this.stateWrites;
    const after = await getPluginRow(this.options.store, pluginId);
    this.applied.set(pluginId, appliedState(after));
    return after;
  }

  /**
   * Stops a running plugin: its sandbox first (the event in hand ends), then its reader, then
   * what it left is written. `forget` drops its consumer group as well.
   */
  private async stopPlugin(plugin: LoadedPlugin, { forget }: { forget: boolean }): Promise<void> {
    const pluginId = plugin.sandbox.pluginId;
    if (this.running.get(pluginId) === plugin) this.running.delete(pluginId);
    await plugin.sandbox.close();
    // Closing first: a batch in hand whose output the store refuses gives up instead of retrying, so its reader can stop.
    const outputClosed = plugin.output.close();
    await plugin.feed?.stop();
    await outputClosed;
    if (forget && plugin.feed) {
      await this.options.bus
        .deleteGroup('events', pluginGroup(pluginId))
        .catch((error: unknown) => this.options.log.warn({ plugin: pluginId, err: errorSummary(error) }, `the event reader of plugin ${pluginId} could not be removed: ${errorSummary(error)}`));
    }
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
    clearInterval(this.lagWatch);
    for (const watcher of this.watchers.splice(0)) watcher.close();
    await Promise.all([...this.running.values()].map((plugin) => this.stopPlugin(plugin, { forget: false })));
    await this.stateWrites;
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
    const output = new PluginOutput(pluginId, this.options.store, this.options.bus, log, { ...DEFAULT_LIMITS, ...this.options.limits });
    const loaded: LoadedPlugin = { dir: plugin.dir, manifest, output, lag: 0, sandbox: undefined as unknown as ThreadedSandbox };
    loaded.sandbox = await ThreadedSandbox.start({
      pluginId,
      code: built.code,
      config: built.config,
      grants: row.grantedPermissions,
      limits: this.options.limits,
      services: this.services(pluginId, output, log),
      onFault: (fault) => this.onFault(pluginId, fault, log),
      onDisabled: (reason) => this.onDisabled(loaded, reason, log),
    });
    if (loaded.sandbox.disabled) {
      await loaded.sandbox.close();
      return;
    }
    this.running.set(pluginId, loaded);
    await this.startFeed(loaded);
    await updatePlugin(this.options.store, pluginId, { status: 'enabled' });
    log.info({ version: manifest.version }, `plugin ${pluginId} started (version ${manifest.version})`);
  }

  private services(pluginId: string, output: PluginOutput, log: Logger): SandboxServices {
    const fetch = this.options.fetch ?? ((call: HttpCall, origins: Set<string>) => pluginFetch(call, origins, this.options.httpLimits ?? DEFAULT_HTTP_LIMITS));
    // A terminal line names the plugin whose words it shows (log.ts), so they cannot pass for the host's.
    const authored = log.child({ author: pluginId });
    return {
      overlay: (channel, data, kind, run) => output.overlayMessage(channel, data, kind, run),
      log: (level, message, fields) =>
        // Under a key of their own: a plugin's fields cannot pass for the host's (`plugin`, `level`, `msg`).
        authored[level](fields ? { fields } : {}, message),
      kvGet: (key) => output.kv.get(key),
      kvSet: async (key: string, value: Json, run: RunInfo) => output.kvSet(key, value, run),
      kvDelete: async (key: string, run: RunInfo) => output.kvSet(key, undefined, run),
      fetch: async (call, grants, run) => {
        const started = performance.now();
        const action = `http:${call.method} ${call.url}`;
        try {
          const answer = await fetch(call, grants.exactOrigins());
          output.record(run, action, answer.status < 400 ? 'ok' : 'error', {
            durationMs: Math.round(performance.now() - started),
            ...(answer.status < 400 ? {} : { error: `HTTP ${answer.status}` }),
          });
          return answer;
        } catch (error) {
          output.record(run, action, 'error', { durationMs: Math.round(performance.now() - started), error: messageOf(error) });
          throw error;
        }
      },
    };
  }

  private onFault(pluginId: string, fault: Fault, log: Logger): void {
    const where = fault.run.eventId ? `event ${fault.run.eventId}` : fault.run.kind;
    // A plugin's error is its stack: the message keeps the first line, the `error` field all of it.
    log.warn({ kind: fault.kind, run: fault.run, error: fault.message }, `plugin ${pluginId}: ${fault.kind} fault in ${where}: ${errorSummary(fault.message)}`);
    this.options.observer?.faulted(pluginId, fault.kind);
    this.persist(log, `the fault of plugin ${pluginId}`, () => recordPluginFault(this.options.store, pluginId, `${fault.kind}: ${fault.message}`));
  }

  /** The sandbox disabled the plugin (too many faults, a failed worker): it stops, and its row says why. */
  private onDisabled(plugin: LoadedPlugin, reason: string, log: Logger): void {
    const pluginId = plugin.sandbox.pluginId;
    log.error({ reason }, `plugin ${pluginId} disabled: ${errorSummary(reason)}`);
    this.persist(log, `disabling plugin ${pluginId}`, () => updatePlugin(this.options.store, pluginId, { enabled: false, status: 'disabled', lastError: reason }));
    // Not awaited: this may be heard while its own reader is handling a batch, which stopping waits for.
    if (this.running.get(pluginId) === plugin) void this.stopPlugin(plugin, { forget: true });
  }
}

/** The parts of a plugin's row that decide how it runs (its status and faults do not). */
function appliedState(row: PluginRow | undefined): string {
  return row ? JSON.stringify([row.enabled, row.config, row.grantedPermissions]) : '';
}
