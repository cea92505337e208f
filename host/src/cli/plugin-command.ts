/**
 * `ttlp plugin list|grant|enable|disable|config`: plugin administration on the configured store.
 * Running hosts on the same database apply changes within seconds (PluginHost.followStore).
 */
import { readFileSync } from 'node:fs';
import type { PluginQuotas } from '@ttlp/sdk/host-contract';
import { requestedPermissions } from '@ttlp/sdk/manifest';
import { pluginQuotas } from '@ttlp/sdk/sandbox';
import { pluginLimits, type ConfigFlags, type HostConfig } from '../config.ts';
import { configurePlugin, disablePlugin, enablePlugin, grantPermissions, PluginAdminError } from '../plugin-runtime/admin.ts';
import { discoverPlugins, pluginRoots, type DiscoveredPlugin } from '../plugin-runtime/discovery.ts';
import type { Store } from '../store/database.ts';
import { getPluginRow, listPluginRows, type PluginRow } from '../store/plugins.ts';
import { CommandError, EXIT_USAGE } from './errors.ts';
import { configFrom, openCommandStore } from './pipeline-command.ts';

export interface PluginListEntry {
  id: string;
  displayName: string;
  version: string;
  dir: string;
  enabled: boolean;
  status: string;
  requested: string[];
  granted: string[];
  faults: number;
  lastError: string | null;
  /** The limits the host runs the plugin within (the configured sandbox limits). */
  quotas: PluginQuotas;
}

async function withStore<T>(
  flags: ConfigFlags,
  env: NodeJS.ProcessEnv,
  work: (store: Store, plugins: DiscoveredPlugin[], config: HostConfig) => Promise<T>,
): Promise<T> {
  const config = configFrom(env, flags);
  const { plugins, problems } = discoverPlugins(pluginRoots(config));
  for (const problem of problems) process.stderr.write(`skipped ${problem.dir}:\n  - ${problem.problems.join('\n  - ')}\n`);
  const store = await openCommandStore(config);
  try {
    return await work(store, plugins, config);
  } catch (error) {
    if (error instanceof PluginAdminError) throw new CommandError(error.message, EXIT_USAGE);
    throw error;
  } finally {
    await store.close();
  }
}

function find(plugins: DiscoveredPlugin[], id: string): DiscoveredPlugin {
  const plugin = plugins.find((candidate) => candidate.manifest.id === id);
  if (!plugin) throw new CommandError(`no plugin "${id}" (found: ${plugins.map((p) => p.manifest.id).join(', ') || 'none'})`, EXIT_USAGE);
  return plugin;
}

export async function runPluginList(flags: ConfigFlags, env: NodeJS.ProcessEnv): Promise<PluginListEntry[]> {
  return withStore(flags, env, async (store, plugins, config) => {
    const rows = new Map((await listPluginRows(store)).map((row): [string, PluginRow] => [row.pluginId, row]));
    const quotas = pluginQuotas(pluginLimits(config));
    return plugins.map(({ dir, manifest }) => {
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
  });
}

/** `enabled`, `disabled`, or what else the stored status says (a plugin that faulted, never enabled). */
function stateOf(entry: PluginListEntry): string {
  const state = entry.enabled ? 'enabled' : 'disabled';
  if (entry.status === state) return state;
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
  return withStore(options, env, (store, plugins) => grantPermissions(store, find(plugins, id), options.all ? 'all' : permissions));
}

export async function runPluginEnable(id: string, options: { grantAll?: boolean } & ConfigFlags, env: NodeJS.ProcessEnv): Promise<void> {
  await withStore(options, env, async (store, plugins) => {
    const plugin = find(plugins, id);
    if (options.grantAll) await grantPermissions(store, plugin, 'all');
    await enablePlugin(store, plugin);
  });
}

export async function runPluginDisable(id: string, flags: ConfigFlags, env: NodeJS.ProcessEnv): Promise<void> {
  await withStore(flags, env, async (store, plugins) => disablePlugin(store, find(plugins, id)));
}

/** Prints the settings; with `--set <json>` or `--file <path>` replaces them first (checked against the schema). */
export async function runPluginConfig(
  id: string,
  options: { set?: string; file?: string } & ConfigFlags,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, unknown>> {
  let replacement: unknown;
  const text = options.file ? readFileSync(options.file, 'utf8') : options.set;
  if (text !== undefined) {
    try {
      replacement = JSON.parse(text);
    } catch (error) {
      throw new CommandError(`the settings are not JSON: ${(error as Error).message}`, EXIT_USAGE);
    }
  }
  return withStore(options, env, async (store, plugins) => {
    const plugin = find(plugins, id);
    if (replacement !== undefined) return configurePlugin(store, plugin, replacement);
    return (await getPluginRow(store, id))?.config ?? {};
  });
}
