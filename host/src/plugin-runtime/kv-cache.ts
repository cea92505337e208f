/**
 * A plugin's kv as the host serves it: reads go through a cache, writes are kept and written in
 * one go when the batch of events that caused them is done (before it is acknowledged, so a crash
 * replays the batch rather than losing the writes) or shortly after, for writes made by timers.
 * It keeps the plugin's kv quota: what is stored is counted when the cache opens (its first use),
 * and a write that would take the plugin over `kvKeys` or `kvBytes` is refused (`QuotaExceeded`).
 */
import type { Json } from '@ttlp/sdk';
import { DEFAULT_LIMITS, KvUsage, type SandboxLimits } from '@ttlp/sdk/sandbox';
import type { Store } from '../store/database.ts';
import { kvGet, kvSizes, kvWriteMany } from '../store/plugins.ts';

/** Clean entries kept per plugin; past it, they are dropped (dirty ones stay until written). */
const MAX_CLEAN_ENTRIES = 10_000;

export class KvCache {
  private readonly values = new Map<string, Json | undefined>();
  private dirty = new Map<string, Json | undefined>();
  private counted: Promise<KvUsage> | undefined;

  constructor(
    private readonly store: Store,
    private readonly pluginId: string,
    private readonly onDirty: () => void,
    private readonly limits: Pick<SandboxLimits, 'kvKeys' | 'kvBytes'> = DEFAULT_LIMITS,
  ) {}

  /** The plugin's usage: counted from the store on first use (again, if that failed), then kept. */
  private opened(): Promise<KvUsage> {
    this.counted ??= kvSizes(this.store, this.pluginId).then(
      (sizes) => new KvUsage(this.limits, sizes),
      (error: unknown) => {
        this.counted = undefined;
        throw error;
      },
    );
    return this.counted;
  }

  /** Keys and bytes the plugin's kv holds, writes not yet flushed included. */
  async usage(): Promise<{ keys: number; bytes: number }> {
    const usage = await this.opened();
    return { keys: usage.keys, bytes: usage.bytes };
  }

  async get(key: string): Promise<Json | undefined> {
    // After the opening, like every write: a read asked for after a write sees it.
    await this.opened();
    if (this.dirty.has(key)) return this.dirty.get(key);
    if (this.values.has(key)) return this.values.get(key);
    const value = await kvGet(this.store, this.pluginId, key);
    if (this.values.size >= MAX_CLEAN_ENTRIES) this.values.clear();
    this.values.set(key, value);
    return value;
  }

  /** Sets `key` (`undefined`: deletes it); rejects with `QuotaExceeded` when that would go over the quota. */
  async set(key: string, value: Json | undefined): Promise<void> {
    (await this.opened()).change(key, value);
    this.dirty.set(key, value);
    this.onDirty();
  }

  /** Drops the changes not yet written (they cannot be: the store refused their data). */
  discardPending(): void {
    this.dirty = new Map();
  }

  get pending(): boolean {
    return this.dirty.size > 0;
  }

  /** Writes what changed; on failure the changes stay to be written next time. */
  async flush(): Promise<void> {
    // Writes asked for while the usage is being counted wait for it: they belong in this flush.
    await this.counted?.catch(() => undefined);
    if (this.dirty.size === 0) return;
    const changes = this.dirty;
    this.dirty = new Map();
    try {
      await kvWriteMany(this.store, this.pluginId, changes);
    } catch (error) {
      for (const [key, value] of changes) if (!this.dirty.has(key)) this.dirty.set(key, value);
      throw error;
    }
    if (this.values.size + changes.size > MAX_CLEAN_ENTRIES) this.values.clear();
    for (const [key, value] of changes) this.values.set(key, value);
  }
}
