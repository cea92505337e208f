/** The worker hears the host's answers from its first moment: a plugin's setup may await kv. */
import { afterAll, expect, it } from 'vitest';
import type { Json } from '@ttlp/sdk';
import { bundlePlugin, type Fault, type SandboxServices } from '@ttlp/sdk/sandbox';
import { writePlugin } from '../../../../sdk/test/support/plugin-dir.ts';
import { ThreadedSandbox } from './threaded-sandbox.ts';

const started: ThreadedSandbox[] = [];
afterAll(async () => {
  await Promise.all(started.map((sandbox) => sandbox.close()));
});

it('starts a plugin whose setup awaits kv, at its first start and after a reload', async () => {
  const kv = new Map<string, Json>([['starts', 4]]);
  const faults: Fault[] = [];
  const services: SandboxServices = {
    overlay: () => undefined,
    log: () => undefined,
    kvGet: async (key) => kv.get(key),
    kvSet: async (key, value) => void kv.set(key, value),
    kvDelete: async (key) => void kv.delete(key),
    fetch: async () => ({ status: 204, headers: {}, body: '' }),
  };
  const bundle = await bundlePlugin(
    writePlugin(`
      import { definePlugin } from '@ttlp/sdk';
      export default definePlugin({
        async setup(ctx) {
          await ctx.kv.set('starts', ((await ctx.kv.get<number>('starts')) ?? 0) + 1);
        },
      });`),
    'index.ts',
  );
  const sandbox = await ThreadedSandbox.start({ pluginId: 'awaits-kv', ...bundle, config: {}, grants: ['kv'], services, onFault: (fault) => faults.push(fault) });
  started.push(sandbox);
  expect(sandbox.disabled).toBeUndefined();
  expect(kv.get('starts')).toBe(5);
  await sandbox.reload(bundle, {});
  expect(kv.get('starts')).toBe(6);
  expect(faults).toEqual([]);
});
