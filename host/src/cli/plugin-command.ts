/**
 * `ttlp plugin list|grant|enable|disable|config`: plugin administration. While a host on this
 * machine holds the embedded database, the commands go through its HTTP API (with the access it
 * publishes in DATA_DIR, api/local-access.ts), which applies a change at once; otherwise they work
 * on the configured store, and running hosts on a shared database apply changes within seconds
 * (PluginHost.followStore). The output is the same either way.
 */
import { readFileSync } from 'node:fs';
import type { PluginList, PluginQuotas, PluginView } from '@ttlp/sdk/host-contract';
import { requestedPermissions, validatePluginConfig } from '@ttlp/sdk/manifest';
import { pluginQuotas } from '@ttlp/sdk/sandbox';
import { readLocalAccess } from '../api/local-access.ts';
import { pluginLimits, type ConfigFlags } from '../config.ts';
import { configurePlugin, disablePlugin, enablePlugin, grantPermissions, PluginAdminError } from '../plugin-runtime/admin.ts';
import { discoverPlugins, pluginRoots, type DiscoveredPlugin, type DiscoveryProblem } from '../plugin-runtime/discovery.ts';
import type { Store } from '../store/database.ts';
import { getPluginRow, listPluginRows, type PluginRow } from '../store/plugins.ts';
import { CommandError, EXIT_USAGE } from './errors.ts';
import { HostClient, HostGone } from './host-client.ts';
import { configFrom, openCommandStore } from './pipeline-command.ts';

export interface PluginListEntry {
  id: string;
  displayName: string;
  version: string;
  dir: string;
  enabled: boolean;
  /** As stored: installed (never enabled), enabled, faulted, failed (its setup failed, so it does not run), disabled. */
  status: string;
  requested: string[];
  granted: string[];
  faults: number;
  lastError: string | null;
  /** The limits the host runs the plugin within (the configured sandbox limits). */
  quotas: PluginQuotas;
}

/** What the commands do, on the store or through the running host. */
interface PluginAdmin {
  /** The plugins found, as the list shows them, and the plugin folders skipped with why. */
  list(): Promise<{ entries: PluginListEntry[]; problems: DiscoveryProblem[] }>;
  /** Grants permissions the plugin requests; answers every one granted now. */
  grant(id: string, permissions: string[]): Promise<string[]>;
  /** Grants `grant` (when any) and enables; answers why the plugin does not run, when the host that started it says so. */
  enable(id: string, grant: string[]): Promise<string | undefined>;
  disable(id: string): Promise<void>;
  /** Its settings with their defaults; replaced first (checked against its schema) when `replacement` is given. */
  config(id: string, replacement?: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** The commands on the store itself: no host holds it (or it is PostgreSQL, which they share). */
class StoreAdmin implements PluginAdmin {
  constructor(
    private readonly store: Store,
    private readonly plugins: DiscoveredPlugin[],
    private readonly problems: DiscoveryProblem[],
    /** The limits of the configured host. */
    private readonly quotas: PluginQuotas,
  ) {}

  async list(): Promise<{ entries: PluginListEntry[]; problems: DiscoveryProblem[] }> {
    const rows = new Map((await listPluginRows(this.store)).map((row): [string, PluginRow] => [row.pluginId, row]));
    const quotas = this.quotas;
    const entries = this.plugins.map(({ dir, manifest }) => {
      const row = rows.get(manifest.id);
      return {
        id: manifest.id,
        displayName: manifest.displayName,
        version: manifest.version,
        dir,
        enabled: row?.enabled ?? false,
        status: row?.status ?? 'installed',
        requested: requestedPermissions(manifest),
        granted: row?.grantedPermissions ?? [],
        faults: row?.faultCount ?? 0,
        lastError: row?.lastError ?? null,
        quotas,
      };
    });
    return { entries, problems: this.problems };
  }

  grant(id: string, permissions: string[]): Promise<string[]> {
    return grantPermissions(this.store, this.plugin(id), permissions);
  }

  async enable(id: string, grant: string[]): Promise<undefined> {
    if (grant.length > 0) await grantPermissions(this.store, this.plugin(id), grant);
    await enablePlugin(this.store, this.plugin(id));
    return undefined;
  }

  disable(id: string): Promise<void> {
    return disablePlugin(this.store, this.plugin(id));
  }

  async config(id: string, replacement?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const plugin = this.plugin(id);
    if (replacement !== undefined) return configurePlugin(this.store, plugin, replacement);
    // As the API shows them: with their defaults, or as stored when they no longer fit the schema.
    const stored = (await getPluginRow(this.store, id))?.config ?? {};
    const checked = validatePluginConfig(plugin.manifest, stored);
    return checked.ok ? checked.config : stored;
  }

  private plugin(id: string): DiscoveredPlugin {
    return this.plugins.find((candidate) => candidate.manifest.id === id)!;
  }
}

/** The commands through the API of the host that holds the embedded database. */
class HostAdmin implements PluginAdmin {
  constructor(private readonly host: HostClient) {}

  async list(): Promise<{ entries: PluginListEntry[]; problems: DiscoveryProblem[] }> {
    const { plugins, problems } = await this.host.get<PluginList>('/api/plugins');
    return { entries: plugins.map(entryOf), problems };
  }

  async grant(id: string, permissions: string[]): Promise<string[]> {
    return (await this.host.post<PluginView>(`/api/plugins/${id}/grant`, { grant: permissions })).grantedPermissions;
  }

  async enable(id: string, grant: string[]): Promise<string | undefined> {
    const view = await this.host.post<PluginView>(`/api/plugins/${id}/enable`, { grant });
    return view.state === 'failed' ? (view.lastError ?? 'its setup failed') : undefined;
  }

  async disable(id: string): Promise<void> {
    await this.host.post(`/api/plugins/${id}/disable`);
  }

  async config(id: string, replacement?: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (replacement !== undefined) return (await this.host.put<PluginView>(`/api/plugins/${id}/config`, { config: replacement })).config;
    return (await this.host.get<PluginView>(`/api/plugins/${id}`)).config;
  }
}

/** A plugin as the API shows it, as the list shows it. */
function entryOf(view: PluginView): PluginListEntry {
  return {
    id: view.id,
    displayName: view.displayName,
    version: view.version,
    dir: view.dir,
    enabled: view.enabled,
    status: view.status,
    requested: view.requestedPermissions,
    granted: view.grantedPermissions,
    faults: view.faultCount,
    lastError: view.lastError,
    quotas: view.quotas,
  };
}

/**
 * Runs `work` through the host that holds the embedded database, when one runs on this machine,
 * else on the store. The plugins found come first (the folders skipped are reported on stderr).
 */
async function administer<T>(flags: ConfigFlags, env: NodeJS.ProcessEnv, work: (admin: PluginAdmin, found: PluginListEntry[]) => Promise<T>): Promise<T> {
  const config = configFrom(env, flags);
  const access = config.databaseUrl ? undefined : readLocalAccess(config.dataDir);
  if (access) {
    try {
      return await session(new HostAdmin(new HostClient(access)), work);
    } catch (error) {
      // Its process lives on, but nothing listens at its URL: a host that crashed left its file, and the store is free.
      if (!(error instanceof HostGone)) throw error;
    }
  }
  const { plugins, problems } = discoverPlugins(pluginRoots(config));
  const store = await openCommandStore(config);
  try {
    return await session(new StoreAdmin(store, plugins, problems, pluginQuotas(pluginLimits(config))), work);
  } catch (error) {
    if (error instanceof PluginAdminError) throw new CommandError(error.message, EXIT_USAGE);
    throw error;
  } finally {
    await store.close();
  }
}

async function session<T>(admin: PluginAdmin, work: (admin: PluginAdmin, found: PluginListEntry[]) => Promise<T>): Promise<T> {
  const { entries, problems } = await admin.list();
  for (const problem of problems) process.stderr.write(`skipped ${problem.dir}:\n  - ${problem.problems.join('\n  - ')}\n`);
  return work(admin, entries);
}

function find(entries: PluginListEntry[], id: string): PluginListEntry {
  const entry = entries.find((candidate) => candidate.id === id);
  if (!entry) throw new CommandError(`no plugin "${id}" (found: ${entries.map((candidate) => candidate.id).join(', ') || 'none'})`, EXIT_USAGE);
  return entry;
}

export async function runPluginList(flags: ConfigFlags, env: NodeJS.ProcessEnv): Promise<PluginListEntry[]> {
  return administer(flags, env, async (_admin, entries) => entries);
}

/** `enabled`, `disabled`, `failed`, or what else the stored status says (a plugin that faulted, never enabled). */
function stateOf(entry: PluginListEntry): string {
  const state = entry.enabled ? 'enabled' : 'disabled';
  if (entry.status === state) return state;
  if (entry.enabled && entry.status === 'failed') return 'failed (its setup failed, so it does not run)';
  return entry.status === 'installed' ? 'disabled (never enabled)' : `${state} (${entry.status})`;
}

/** Whole MB or KB where they are whole, else bytes. */
function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}

/** The limits in two lines (every plugin runs within the same ones). */
function formatQuotas(quotas: PluginQuotas): string {
  return [
    `limits per plugin: memory ${quotas.memoryMb} MB, CPU ${quotas.cpuMsPerSecond} ms/s, overlay ${quotas.overlayPerRun}/event ${quotas.overlayPerSecond}/s,`,
    `  kv ${quotas.kvKeys} keys ${formatBytes(quotas.kvBytes)}, log ${quotas.logLinesPerSecond} lines/s ${formatBytes(quotas.logBytesPerSecond)}/s, http ${quotas.httpPerMinute}/min, timers ${quotas.timers}`,
  ].join('\n');
}

export function formatPluginList(entries: PluginListEntry[]): string {
  if (entries.length === 0) return 'no plugins found';
  const list = entries
    .map((entry) => {
      const missing = entry.requested.filter((permission) => !entry.granted.includes(permission));
      const lines = [
        `${entry.id}  ${entry.displayName} ${entry.version}  ${stateOf(entry)}`,
        `  permissions: ${entry.requested.join(', ') || 'none'}${missing.length > 0 ? `  — not granted: ${missing.join(', ')}` : ''}`,
      ];
      if (entry.lastError) lines.push(`  last error (${entry.faults} faults): ${entry.lastError}`);
      return lines.join('\n');
    })
    .join('\n');
  return `${list}\n${formatQuotas(entries[0]!.quotas)}`;
}

export async function runPluginGrant(id: string, permissions: string[], options: { all?: boolean } & ConfigFlags, env: NodeJS.ProcessEnv): Promise<string[]> {
  if (!options.all && permissions.length === 0) throw new CommandError('name the permissions to grant, or --all', EXIT_USAGE);
  return administer(options, env, (admin, found) => {
    const entry = find(found, id);
    return admin.grant(id, options.all ? entry.requested : permissions);
  });
}

/** Enables the plugin; answers why it does not run, when the running host tried to start it and its setup failed. */
export async function runPluginEnable(id: string, options: { grantAll?: boolean } & ConfigFlags, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return administer(options, env, (admin, found) => {
    const entry = find(found, id);
    return admin.enable(id, options.grantAll ? entry.requested : []);
  });
}

export async function runPluginDisable(id: string, flags: ConfigFlags, env: NodeJS.ProcessEnv): Promise<void> {
  await administer(flags, env, async (admin, found) => admin.disable(find(found, id).id));
}

/** Prints the settings; with `--set <json>` or `--file <path>` replaces them first (checked against the schema). */
export async function runPluginConfig(
  id: string,
  options: { set?: string; file?: string } & ConfigFlags,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, unknown>> {
  let replacement: Record<string, unknown> | undefined;
  const text = options.file ? readFileSync(options.file, 'utf8') : options.set;
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new CommandError(`the settings are not JSON: ${(error as Error).message}`, EXIT_USAGE);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CommandError('the settings must be a JSON object, like {"title": "Top chatter"}', EXIT_USAGE);
    replacement = parsed as Record<string, unknown>;
  }
  return administer(options, env, (admin, found) => admin.config(find(found, id).id, replacement));
}
