/**
 * A plugin's kv as the host serves it: reads go through a cache, writes are kept and written in
 * one go when the batch of events that caused them is done (before it is acknowledged, so a crash
 * replays the batch rather than losing the writes) or shortly after, for writes made by timers.
 */
import type { Json } from '@ttlp/sdk';
import type { Store } from '../store/database.ts';
import { kvGet, kvWriteMany } from '../store/plugins.ts';

/** Clean entries kept per plugin; past it, they are dropped (dirty ones stay until written). */
const MAX_CLEAN_ENTRIES = 10_000;

export class KvCache {
  private readonly values = new Map<string, Json | undefined>();
  private dirty = new Map<string, Json | undefined>();

  constructor(
    private readonly store: Store,
    private readonly pluginId: string,
    private readonly onDirty: () => void,
  ) {}

  async get(key: string): Promise<Json | undefined> {
    if (this.dirty.has(key)) return this.dirty.get(key);
    if (this.values.has(key)) return this.values.get(key);
    const value = await kvGet(this.store, this.pluginId, key);
    if (this.values.size >= MAX_CLEAN_ENTRIES) this.values.clear();
    this.values.set(key, value);
    return value;
  }

  set(key: string, value: Json | undefined): void {
    this.dirty.set(key, value);
    this.onDirty();
  }

  get pending(): boolean {
    return this.dirty.size > 0;
  }

  /** Writes what changed; on failure the changes stay to be written next time. */
  async flush(): Promise<void> {
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
