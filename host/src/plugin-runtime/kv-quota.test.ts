/**
 * A plugin's kv quota as the host keeps it: what the plugin stored before is counted when its kv
 * cache opens (one query), every write after is counted as it is made, and a write past `kvKeys`
 * or `kvBytes` is refused with `QuotaExceeded` — on PGlite and on PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import type { Json } from '@ttlp/sdk';
import { bundlePlugin, isQuotaExceeded, storedJsonBytes, type Fault } from '@ttlp/sdk/sandbox';
import { makeEvent } from '@ttlp/sdk/testing';
import { writePlugin } from '../../../sdk/test/support/plugin-dir.ts';
import { STORE_DRIVERS, useTestStore } from '../../test/support/database.ts';
import { kvSizes, kvWriteMany } from '../store/plugins.ts';
import { KvCache } from './kv-cache.ts';
import { ThreadedSandbox } from './sandbox-thread/threaded-sandbox.ts';

/** Values whose stored text differs from JSON.stringify's in every way jsonb has. */
const VALUES: Record<string, Json> = {
  text: 'plain',
  escapes: 'a "quoted"\nline\twith \\ and \u0001',
  unicode: 'żółw 🐢 \u2028',
  numbers: [0, -1, 3.25, 1e-7, -1.5e-9, 1e21, 2.5e25, Number.MAX_SAFE_INTEGER],
  nested: { a: [1, { b: null, c: [true, false] }], 'key "with" quotes': {}, empty: [] },
  array: [[], {}, '', 0],
};

const refusal = async (write: Promise<void>): Promise<string> => {
  const error = await write.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  if (!isQuotaExceeded(error)) throw new Error(`expected a quota refusal, got ${String(error)}`);
  return error.message;
};

describe.each(STORE_DRIVERS)('the kv quota on %s', (driver) => {
  const opened = useTestStore(driver);
  const cache = (pluginId: string, limits = { kvKeys: 1000, kvBytes: 1024 * 1024 }) => new KvCache(opened.store, pluginId, () => undefined, limits);

  it('counts a value as the store does (the octet length of its JSON text)', async () => {
    const kv = cache('sizes');
    for (const [key, value] of Object.entries(VALUES)) await kv.set(key, value);
    await kv.flush();
    const stored = await kvSizes(opened.store, 'sizes');
    expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(Object.entries(VALUES).map(([key, value]) => [key, storedJsonBytes(value)])));
  });

  it('counts at open what the plugin stored before, its own rows only', async () => {
    await kvWriteMany(opened.store, 'counted', new Map(Object.entries(VALUES)));
    await kvWriteMany(opened.store, 'someone-else', new Map([['other', 'x'.repeat(1000)]]));
    const bytes = Object.values(VALUES).reduce<number>((sum, value) => sum + storedJsonBytes(value), 0);
    expect(await cache('counted').usage()).toEqual({ keys: Object.keys(VALUES).length, bytes });
  });

  it('refuses a write past the quota of keys or bytes, and takes one that frees room', async () => {
    // 3 keys of 12 bytes each ("xxxxxxxxxx"), written before.
    await kvWriteMany(opened.store, 'full', new Map([['a', 'x'.repeat(10)], ['b', 'x'.repeat(10)], ['c', 'x'.repeat(10)]]));
    const kv = cache('full', { kvKeys: 4, kvBytes: 60 });
    await kv.set('d', 'x'.repeat(10));
    expect(await refusal(kv.set('e', 1))).toBe('more than 4 kv keys');
    expect(await kv.get('e')).toBeUndefined();
    // A key stored before this cache opened frees its bytes and its place when deleted.
    await kv.set('a', undefined);
    expect(await kv.usage()).toEqual({ keys: 3, bytes: 36 });
    await kv.set('e', 1);
    // 12 + 12 + 12 + 1 = 37 bytes: d may grow to 35, not to 36.
    expect(await refusal(kv.set('d', 'x'.repeat(34)))).toBe('more than 60 bytes in kv');
    expect(await kv.get('d')).toBe('x'.repeat(10));
    await kv.set('d', 'x'.repeat(33));
    expect(await kv.usage()).toEqual({ keys: 4, bytes: 60 });
    // Over the quota (a lower one after a restart, say), a smaller value is still taken, a larger one not.
    await kv.flush();
    const smaller = cache('full', { kvKeys: 4, kvBytes: 40 });
    await smaller.set('d', 'x'.repeat(20));
    expect(await smaller.usage()).toEqual({ keys: 4, bytes: 47 });
    expect(await refusal(smaller.set('b', 'x'.repeat(11)))).toBe('more than 40 bytes in kv');
    await smaller.flush();
    // What was counted as it was written is what the store counts when the next cache opens.
    expect(await cache('full').usage()).toEqual(await smaller.usage());
  });

  it("is a limit fault of the plugin's run in its worker thread, and its promise rejects with the reason", async () => {
    await kvWriteMany(opened.store, 'threaded', new Map([['before', 1]]));
    const kv = cache('threaded', { kvKeys: 2, kvBytes: 1000 });
    const faults: Fault[] = [];
    const logs: string[] = [];
    const bundle = await bundlePlugin(
      writePlugin(`
        import { definePlugin } from '@ttlp/sdk';
        export default definePlugin({ setup(ctx) {
          ctx.on('CHAT', async (event) => {
            await ctx.kv.set(event.payload.message, true).catch((error) => ctx.log.warn(error.message));
          });
        } });
      `),
      'index.ts',
    );
    const sandbox = await ThreadedSandbox.start({
      pluginId: 'threaded',
      ...bundle,
      config: {},
      grants: ['events:*', 'kv'],
      services: {
        overlay: () => undefined,
        log: (_level, message) => void logs.push(message),
        kvGet: (key) => kv.get(key),
        kvSet: (key, value) => kv.set(key, value),
        kvDelete: (key) => kv.set(key, undefined),
        fetch: async () => ({ status: 404, headers: {}, body: '' }),
      },
      onFault: (fault) => faults.push(fault),
    });
    try {
      const events = ['first', 'second', 'third'].map((message) => makeEvent('CHAT', { message }));
      await sandbox.dispatchMany(events, events.map((event) => JSON.stringify(event)));
      expect(faults.map((fault) => [fault.kind, fault.message, fault.run.eventId])).toEqual(
        events.slice(1).map((event) => ['limit', 'more than 2 kv keys', event.eventId]),
      );
      expect(logs).toEqual(['more than 2 kv keys', 'more than 2 kv keys']);
      expect(await kv.usage()).toEqual({ keys: 2, bytes: 5 });
    } finally {
      await sandbox.close();
    }
  });

  it('applies a write asked for while the usage is being counted before a flush asked for after it', async () => {
    const kv = cache('racing');
    const write = kv.set('k', 'v');
    await kv.flush();
    await write;
    expect(Object.fromEntries(await kvSizes(opened.store, 'racing'))).toEqual({ k: 3 });
  });
});
