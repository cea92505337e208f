/**
 * Plugin administration on the store: grant, enable, disable, configure. A plugin is enabled only
 * with every permission its manifest requests granted; settings are checked against its schema.
 * The HTTP API applies them to its host at once; other hosts pick them up from the store (followStore).
 */
import { missingPermissions, requestedPermissions, validatePluginConfig } from '@ttlp/sdk/manifest';
import type { Store } from '../store/database.ts';
import { getPluginRow, registerPlugins, updatePlugin, type PluginRow } from '../store/plugins.ts';
import type { DiscoveredPlugin } from './discovery.ts';

export class PluginAdminError extends Error {
  constructor(
    readonly code: 'PLUGIN_NOT_FOUND' | 'PERMISSIONS_MISSING' | 'CONFIG_INVALID' | 'PERMISSION_UNKNOWN',
    message: string,
  ) {
    super(message);
    this.name = 'PluginAdminError';
  }
}

async function rowOf(store: Store, plugin: DiscoveredPlugin): Promise<PluginRow> {
  await registerPlugins(store, [plugin.manifest.id]);
  return (await getPluginRow(store, plugin.manifest.id))!;
}

/** Grants permissions the manifest requests (`all` = every one); returns what is granted now. */
export async function grantPermissions(store: Store, plugin: DiscoveredPlugin, permissions: string[] | 'all'): Promise<string[]> {
  const requested = requestedPermissions(plugin.manifest);
  const wanted = permissions === 'all' ? requested : permissions;
  const unknown = wanted.filter((permission) => !requested.includes(permission));
  if (unknown.length > 0)
    throw new PluginAdminError('PERMISSION_UNKNOWN', `${plugin.manifest.id} does not request ${unknown.join(', ')} (it requests: ${requested.join(', ') || 'nothing'})`);
  const row = await rowOf(store, plugin);
  const granted = [...new Set([...row.grantedPermissions, ...wanted])].filter((permission) => requested.includes(permission)).sort();
  await updatePlugin(store, plugin.manifest.id, { grantedPermissions: granted });
  return granted;
}

export async function enablePlugin(store: Store, plugin: DiscoveredPlugin): Promise<void> {
  const row = await rowOf(store, plugin);
  const missing = missingPermissions(plugin.manifest, row.grantedPermissions);
  if (missing.length > 0)
    throw new PluginAdminError('PERMISSIONS_MISSING', `${plugin.manifest.id} needs these permissions granted first: ${missing.join(', ')}`);
  const config = validatePluginConfig(plugin.manifest, row.config);
  if (!config.ok) throw new PluginAdminError('CONFIG_INVALID', `${plugin.manifest.id} has invalid settings:\n  - ${config.problems.join('\n  - ')}`);
  await updatePlugin(store, plugin.manifest.id, { enabled: true, status: 'enabled', lastError: null });
}

export async function disablePlugin(store: Store, plugin: DiscoveredPlugin): Promise<void> {
  await rowOf(store, plugin);
  await updatePlugin(store, plugin.manifest.id, { enabled: false, status: 'disabled' });
}

/** Replaces the plugin's settings after checking them against its schema; returns them with defaults. */
export async function configurePlugin(store: Store, plugin: DiscoveredPlugin, config: unknown): Promise<Record<string, unknown>> {
  const checked = validatePluginConfig(plugin.manifest, config);
  if (!checked.ok) throw new PluginAdminError('CONFIG_INVALID', `invalid settings for ${plugin.manifest.id}:\n  - ${checked.problems.join('\n  - ')}`);
  await rowOf(store, plugin);
  await updatePlugin(store, plugin.manifest.id, { config: config as Record<string, unknown> });
  return checked.config;
}
