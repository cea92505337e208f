/**
 * Runs the enabled plugins: each in a worker thread of its own (sandbox-thread/), each reading the
 * `events` stream at its own pace in a consumer group of its own (`plugin:<id>`), so a slow or
 * stuck plugin falls behind alone. A plugin too far behind skips ahead to the newest events, and
 * the gap counts as its fault. What plugins do goes to the services here: overlay messages to the
 * `overlay` stream, kv to `plugin_kv`, http out through the guarded fetcher — and every one of
 * those side effects to `actions_log` (plugin-output.ts), written before the plugin's batch is
 * acknowledged.
 */
import type { Json } from '@ttlp/sdk';
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import { missingPermissions, validatePluginConfig, type PluginManifest } from '@ttlp/sdk/manifest';
import { bundlePlugin, DEFAULT_LIMITS, faultPlace, messageOf, type Fault, type HttpAnswer, type HttpCall, type PluginBundle, type RunInfo, type SandboxLimits, type SandboxServices } from '@ttlp/sdk/sandbox';
import { compareStreamIds } from '../bus/streams.ts';
import type { BusEntry, Consumer, EventBus } from '../bus/types.ts';
import { errorSummary } from '../error-summary.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/database.ts';
import { getPluginRow, listPluginRows, recordPluginFault, registerPlugins, updatePlugin, type PluginRow } from '../store/plugins.ts';
import { discoverPlugins, readPlugin, rediscover, type DiscoveredPlugin, type DiscoveryProblem } from './discovery.ts';
import { PluginFolderWatch } from './folder-watch.ts';
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
  /** Why its setup failed, once it did: it is not set up, so it does not run (see `onSetupFailed`). */
  setupFailed?: string;
}

const DEFAULT_MAX_LAG_EVENTS = 5_000;
const DEFAULT_LAG_CHECK_MS = 1_000;

export class PluginHost {
  private readonly running = new Map<string, LoadedPlugin>();
  /** Fault and state writes, in the order they happened (a later "disabled" must not be overtaken). */
  private stateWrites: Promise<unknown> = Promise.resolve();
  /** How the plugins read the stream, once `start` was called. */
  private feedSettings: (FeedSettings & { consumer: string }) | undefined;
  /** Development mode's watch on the plugin folders, once `watch` was called. */
  private folderWatch: PluginFolderWatch | undefined;
  /** The last change asked for each plugin (apply, reload): the next one waits for it. */
  private readonly applying = new Map<string, Promise<unknown>>();
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
    host.noteProblems(discovery.problems);
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
   * Development mode: watches every plugin folder, whatever its plugin's state, and the roots.
   * A running plugin whose files change (in any way, in any of its folders) is rebuilt and
   * restarted, keeping its kv; a change that does not build, or asks for permissions not granted,
   * leaves the running version alone and says why; an enabled one whose setup failed is started
   * again. A new plugin folder is listed, disabled until switched on; a removed one is stopped and
   * no longer listed. `onReload` hears of every reload of a running plugin.
   */
  watch(onReload?: (pluginId: string, error?: string) => void): void {
    this.folderWatch ??= new PluginFolderWatch({ roots: this.options.roots, log: this.options.log, changed: (folders) => this.folderChanges(folders, onReload) });
  }

  /** Applies what changed in the plugin folders: new plugins registered, removed ones stopped, edited ones reloaded. */
  private async folderChanges(folders: ReadonlySet<string>, onReload?: (pluginId: string, error?: string) => void): Promise<void> {
    const found = rediscover(this.available, this.options.roots, folders);
    this.available = found.plugins;
    this.noteProblems(found.problems);
    await registerPlugins(this.options.store, found.added.map((plugin) => plugin.manifest.id));
    const log = this.options.log;
    for (const { dir, manifest } of found.removed)
      log.info({ plugin: manifest.id, dir }, `plugin ${manifest.id} is gone from ${dir}${this.running.has(manifest.id) ? '; it stops' : ''}`);
    const added = found.added.map(async ({ dir, manifest }) => {
      // A plugin enabled before (its folder came back) starts again, as at the host's start.
      const row = await this.apply(manifest.id);
      log.info({ plugin: manifest.id, dir }, `plugin ${manifest.id} found in ${dir}${row?.enabled ? '' : '; switch it on in the settings page'}`);
    });
    const removed = found.removed.map((plugin) => this.apply(plugin.manifest.id));
    const reloaded = found.edited.map(({ dir, manifest }) => {
      // One that is enabled but not running (its setup failed) is started again, as switching it on would.
      if (!this.running.has(manifest.id)) return this.apply(manifest.id);
      return this.queue(manifest.id, () => this.reload(manifest.id, dir)).then(
        (error) => onReload?.(manifest.id, error),
        (error: unknown) => onReload?.(manifest.id, messageOf(error)),
      );
    });
    await Promise.all([...added, ...removed, ...reloaded]);
  }

  /** Lists the plugin folders that could not be read, warning of each problem when it is new. */
  private noteProblems(problems: DiscoveryProblem[]): void {
    const key = (problem: DiscoveryProblem) => JSON.stringify([problem.dir, problem.problems]);
    const known = new Set(this.problems.map(key));
    for (const problem of problems.filter((candidate) => !known.has(key(candidate))))
      this.options.log.warn({ dir: problem.dir, problems: problem.problems }, `plugin folder ${problem.dir} skipped: ${problem.problems.join('; ')}`);
    this.problems = problems;
  }

  /**
   * Brings one plugin in line with its stored row while the host runs (after the API enabled,
   * disabled or reconfigured it): stopped, then started again if it is enabled, kv kept.
   * Changes to one plugin are applied one at a time. Returns the row as it is afterwards.
   */
  apply(pluginId: string): Promise<PluginRow | undefined> {
    return this.queue(pluginId, () => this.restart(pluginId));
  }

  /** Runs `work` once every change asked for `pluginId` before it is done. */
  private queue<T>(pluginId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.applying.get(pluginId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.applying.set(pluginId, next);
    return next;
  }

  private async restart(pluginId: string): Promise<PluginRow | undefined> {
    const plugin = this.available.find((candidate) => candidate.manifest.id === pluginId);
    const running = this.running.get(pluginId);
    if (!plugin) {
      // Its folder is gone (development mode): it stops, keeping its place in the stream should the folder come back.
      if (running) await this.stopPlugin(running, { forget: false });
      return undefined;
    }
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
        .then((changed) => Promise.all(changed.map((pluginId) => this.applyChange(pluginId))))
        .catch((error: unknown) => this.options.log.warn({ err: errorSummary(error) }, `plugin changes could not be read (${errorSummary(error)}); will try again`))
        .finally(() => (checking = false));
    }, intervalMs);
    this.storeWatch.unref();
  }

  /** As `apply`, unless by its turn the plugin runs with what its row says (this host's API applied the change meanwhile). */
  private applyChange(pluginId: string): Promise<PluginRow | undefined> {
    return this.queue(pluginId, async () => {
      const row = await getPluginRow(this.options.store, pluginId);
      return appliedState(row) === this.applied.get(pluginId) ? row : this.restart(pluginId);
    });
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
    if (found.manifest.id !== pluginId) return refuse(`the manifest id changed to "${found.manifest.id}"`);
    const built = await this.build(found, await getPluginRow(this.options.store, pluginId));
    if ('problem' in built) return refuse(built.problem);
    await loaded.sandbox.reload(built.bundle, built.config);
    // Its new setup failed: it stopped (onSetupFailed said why).
    if (loaded.setupFailed) return loaded.setupFailed;
    loaded.manifest = found.manifest;
    loaded.dir = dir;
    log.info({ version: found.manifest.version }, `plugin ${pluginId} reloaded (version ${found.manifest.version})`);
    return undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.storeWatch);
    clearInterval(this.lagWatch);
    await this.folderWatch?.close();
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
  private async build(plugin: DiscoveredPlugin, row: PluginRow | undefined): Promise<{ bundle: PluginBundle; config: Record<string, unknown> } | { problem: string }> {
    const missing = missingPermissions(plugin.manifest, row?.grantedPermissions ?? []);
    if (missing.length > 0) return { problem: `needs permissions that were not granted: ${missing.join(', ')}` };
    const config = validatePluginConfig(plugin.manifest, row?.config ?? {});
    if (!config.ok) return { problem: `invalid config: ${config.problems.join('; ')}` };
    try {
      return { bundle: await bundlePlugin(plugin.dir, plugin.manifest.entry), config: config.config };
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
      ...built.bundle,
      config: built.config,
      grants: row.grantedPermissions,
      limits: this.options.limits,
      services: this.services(pluginId, output, log),
      onFault: (fault) => this.onFault(loaded, fault, log),
      onDisabled: (reason) => this.onDisabled(loaded, reason, log),
    });
    if (loaded.sandbox.disabled || loaded.setupFailed) {
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

  private onFault(plugin: LoadedPlugin, fault: Fault, log: Logger): void {
    const pluginId = plugin.manifest.id;
    const where = fault.run.eventId ? `event ${fault.run.eventId}` : fault.run.kind;
    log.warn({ kind: fault.kind, run: fault.run, error: fault.message }, `plugin ${pluginId}: ${fault.kind} fault in ${where}: ${faultLine(fault.message)}`);
    this.options.observer?.faulted(pluginId, fault.kind);
    const failure = setupFailure(fault);
    this.persist(log, `the fault of plugin ${pluginId}`, () =>
      recordPluginFault(this.options.store, pluginId, failure ?? `${fault.kind}: ${fault.message}`, failure ? 'failed' : 'faulted'),
    );
    if (failure) this.onSetupFailed(plugin, failure, log);
  }

  /**
   * The plugin's setup failed (at its start, or when its isolate was recreated): it is not set up,
   * so it does not run; it stays enabled, to be tried again when it is switched on again or the
   * host restarts. One still starting is not started (`startPlugin`).
   */
  private onSetupFailed(plugin: LoadedPlugin, reason: string, log: Logger): void {
    const pluginId = plugin.manifest.id;
    plugin.setupFailed = reason;
    log.error({ reason }, `plugin ${pluginId} is not running, its ${faultLine(reason)}; fix it, then switch it on again`);
    // Not awaited, as in onDisabled.
    if (this.running.get(pluginId) === plugin) void this.stopPlugin(plugin, { forget: true });
  }

  /** The sandbox disabled the plugin (too many faults, a failed worker): it stops, and its row says why. */
  private onDisabled(plugin: LoadedPlugin, reason: string, log: Logger): void {
    // Not its sandbox's: one that fails as it starts is disabled before its sandbox is there.
    const pluginId = plugin.manifest.id;
    log.error({ reason }, `plugin ${pluginId} disabled: ${faultLine(reason)}`);
    this.persist(log, `disabling plugin ${pluginId}`, () => updatePlugin(this.options.store, pluginId, { enabled: false, status: 'disabled', lastError: reason }));
    // Not awaited: this may be heard while its own reader is handling a batch, which stopping waits for.
    if (this.running.get(pluginId) === plugin) void this.stopPlugin(plugin, { forget: true });
  }
}

/**
 * A plugin's error (a stack) for a log line's message: its first line and where it happened in
 * the plugin's files; the line's `error` or `reason` field has all of it.
 */
function faultLine(text: string): string {
  const place = faultPlace(text);
  return place === undefined ? errorSummary(text) : `${errorSummary(text)} (at ${place})`;
}

/**
 * What a fault of the plugin's setup says when the setup did not finish (it threw, or was stopped),
 * as the plugin's last error; undefined for other faults, and for a refused call (`limit`), after
 * which the setup went on.
 */
function setupFailure(fault: Fault): string | undefined {
  return fault.run.kind === 'setup' && fault.kind !== 'limit' ? `setup failed: ${fault.kind}: ${fault.message}` : undefined;
}

/** The parts of a plugin's row that decide how it runs (its status and faults do not). */
function appliedState(row: PluginRow | undefined): string {
  return row ? JSON.stringify([row.enabled, row.config, row.grantedPermissions]) : '';
}
