/** Installed plugins (state, grants, settings, faults), their key-value stores and the actions log. */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Json } from '@ttlp/sdk';
import type { Store } from './database.ts';
import { actionsLog, pluginKv, plugins } from './schema.ts';

export type PluginRow = typeof plugins.$inferSelect;
/** `failed`: enabled, but its setup failed, so it does not run (it is tried again when switched on again or the host restarts). */
export type PluginStatus = 'installed' | 'enabled' | 'faulted' | 'failed' | 'disabled';

/** Records plugins seen for the first time (disabled, nothing granted); known ones are left alone. */
export async function registerPlugins(store: Store, pluginIds: string[]): Promise<void> {
  if (pluginIds.length === 0) return;
  await store.db
    .insert(plugins)
    .values(pluginIds.map((pluginId) => ({ pluginId })))
    .onConflictDoNothing();
}

export async function listPluginRows(store: Store): Promise<PluginRow[]> {
  return store.db.select().from(plugins).orderBy(asc(plugins.pluginId));
}

export async function getPluginRow(store: Store, pluginId: string): Promise<PluginRow | undefined> {
  const [row] = await store.db.select().from(plugins).where(eq(plugins.pluginId, pluginId));
  return row;
}

export async function updatePlugin(
  store: Store,
  pluginId: string,
  change: Partial<Pick<PluginRow, 'enabled' | 'config' | 'grantedPermissions' | 'status' | 'lastError'>>,
): Promise<void> {
  await store.db
    .update(plugins)
    .set({ ...change, updatedAt: sql`now()` })
    .where(eq(plugins.pluginId, pluginId));
}

/**
 * Counts a fault and keeps its message; the plugin stays enabled (the sandbox decides when to
 * disable). `failed` when the fault was its setup's, which leaves it not running.
 */
export async function recordPluginFault(store: Store, pluginId: string, message: string, status: Extract<PluginStatus, 'faulted' | 'failed'> = 'faulted'): Promise<void> {
  await store.db
    .update(plugins)
    .set({ faultCount: sql`${plugins.faultCount} + 1`, lastError: message, status, updatedAt: sql`now()` })
    .where(eq(plugins.pluginId, pluginId));
}

// ---- kv: every read and write is scoped to one plugin id -----------------------------------------

export async function kvGet(store: Store, pluginId: string, key: string): Promise<Json | undefined> {
  const [row] = await store.db
    .select({ value: pluginKv.value })
    .from(pluginKv)
    .where(and(eq(pluginKv.pluginId, pluginId), eq(pluginKv.key, key)));
  return row ? (row.value as Json) : undefined;
}

/**
 * The size of each of a plugin's values, by key: the octet length of its JSON text as PostgreSQL
 * writes it (what its kv quota counts, see `storedJsonBytes`).
 */
export async function kvSizes(store: Store, pluginId: string): Promise<Map<string, number>> {
  const rows = await store.db
    .select({ key: pluginKv.key, bytes: sql<number>`octet_length(${pluginKv.value}::text)`.mapWith(Number) })
    .from(pluginKv)
    .where(eq(pluginKv.pluginId, pluginId));
  return new Map(rows.map((row) => [row.key, row.bytes]));
}

/** Writes a plugin's changed keys in two statements: the upserts and the deletes (`undefined` values). */
export async function kvWriteMany(store: Store, pluginId: string, changes: Map<string, Json | undefined>): Promise<void> {
  const sets = [...changes].filter((change): change is [string, Json] => change[1] !== undefined);
  const deletes = [...changes].filter(([, value]) => value === undefined).map(([key]) => key);
  if (sets.length > 0)
    await store.db
      .insert(pluginKv)
      .values(sets.map(([key, value]) => ({ pluginId, key, value })))
      .onConflictDoUpdate({ target: [pluginKv.pluginId, pluginKv.key], set: { value: sql`excluded.value`, updatedAt: sql`now()` } });
  if (deletes.length > 0) await store.db.delete(pluginKv).where(and(eq(pluginKv.pluginId, pluginId), inArray(pluginKv.key, deletes)));
}

// ---- actions log ---------------------------------------------------------------------------------

export interface ActionRecord {
  pluginId: string;
  eventId?: string;
  /** `overlay:<channel>`, `kv.set`, `kv.delete`, `http:<METHOD> <url>`. */
  action: string;
  status: 'ok' | 'error';
  error?: string;
  durationMs?: number;
}

/**
 * Appends the records in one statement with one parameter (a JSON array): a batch of plugin output
 * makes hundreds of rows, and a parameter per column and row costs more than the rows.
 */
export async function logActions(store: Store, records: ActionRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((record) => ({
    plugin_id: record.pluginId,
    event_id: record.eventId ?? null,
    action: record.action.slice(0, 512),
    status: record.status,
    error: record.error?.slice(0, 2000) ?? null,
    duration_ms: record.durationMs ?? null,
  }));
  await store.db.execute(sql`
    INSERT INTO actions_log (plugin_id, event_id, action, status, error, duration_ms)
    SELECT plugin_id, event_id, action, status, error, duration_ms
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS row(plugin_id text, event_id char(64), action text, status text, error text, duration_ms integer)`);
}

export async function listActions(store: Store, pluginId: string): Promise<Array<typeof actionsLog.$inferSelect>> {
  return store.db.select().from(actionsLog).where(eq(actionsLog.pluginId, pluginId)).orderBy(asc(actionsLog.id));
}
