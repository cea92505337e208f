/**
 * Each plugin reads the events stream at its own pace: one that waits falls behind alone, its lag
 * is measured, and past the limit it skips ahead with the gap as its fault. Switching off a plugin
 * stuck in its work answers at once.
 */
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UnifiedEventOf } from '@ttlp/sdk';
import type { HttpAnswer } from '@ttlp/sdk/sandbox';
import { writePlugin } from '../../../sdk/test/support/plugin-dir.ts';
import type { BusEntry, OverlayMessage } from '../bus/types.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { getPluginRow } from '../store/plugins.ts';
import { BACKEND_KINDS, createTestBackend, type TestBackend } from '../../test/support/backends.ts';
import { captureEvents } from '../../test/support/captures.ts';
import { HANG_MS, waitFor } from '../../test/support/patience.ts';
import { disablePlugin, enablePlugin, grantPermissions } from './admin.ts';
import { discoverPlugins } from './discovery.ts';
import { pluginGroup, PluginHost } from './plugin-host.ts';

const log = createLogger({ level: 'silent', destination: process.stderr });

const plugins = [
  {
    // Each chat waits on a request the test answers when it chooses.
    source: `
      import { definePlugin } from '@ttlp/sdk';
      export default definePlugin({ setup(ctx) {
        ctx.on('CHAT', async (event) => { await ctx.http.fetch('https://slow.example/'); ctx.overlay.send('waiter', event.eventId); });
      } });`,
    manifest: { id: 'waiter', permissions: { events: ['CHAT'], http: ['https://slow.example/**'] }, overlayChannels: ['waiter'] },
  },
  {
    source: `
      import { definePlugin } from '@ttlp/sdk';
      export default definePlugin({ setup(ctx) { ctx.on('CHAT', (event) => ctx.overlay.send('quick', event.eventId)); } });`,
    manifest: { id: 'quick', permissions: { events: ['CHAT'] }, overlayChannels: ['quick'] },
  },
];

function pluginsRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'ttlp-plugins-'));
  for (const { source, manifest } of plugins) renameSync(writePlugin(source, manifest), path.join(root, manifest.id));
  return root;
}

for (const kind of BACKEND_KINDS) {
  describe(`plugins on the ${kind} back-end`, () => {
    let backend: TestBackend;
    let pipeline: Pipeline;
    let host: PluginHost | undefined;
    const root = pluginsRoot();
    const chats = captureEvents('web.capture.ndjson').filter((event): event is UnifiedEventOf<'CHAT'> => event.eventType === 'CHAT');
    /** Requests of the waiter, held until answered. */
    const held: Array<(answer: HttpAnswer) => void> = [];
    const answerAll = () => {
      for (const answer of held.splice(0)) answer({ status: 200, headers: {}, body: '' });
    };
    /** The overlay messages so far, by channel: the event ids each plugin answered. */
    const overlay = new Map<string, string[]>();
    const answered = (channel: string) => overlay.get(channel) ?? [];

    beforeAll(async () => {
      backend = await createTestBackend(kind);
      pipeline = await Pipeline.open(loadConfig(backend.env), log);
      for (const plugin of discoverPlugins([root]).plugins) {
        await grantPermissions(pipeline.store, plugin, 'all');
        await enablePlugin(pipeline.store, plugin);
      }
      const reader = pipeline.bus.consume({
        stream: 'overlay',
        group: 'test-reader',
        consumer: 'test',
        stage: 'test',
        blockMs: 50,
        handler: async (entries: BusEntry<OverlayMessage>[]) => {
          for (const { payload } of entries) overlay.set(payload.channel, [...answered(payload.channel), String(payload.data)]);
        },
      });
      await reader.ready();
    });

    afterEach(async () => {
      answerAll();
      await host?.close();
      host = undefined;
    });

    afterAll(async () => {
      await pipeline.close();
      await backend.dispose();
      rmSync(root, { recursive: true, force: true });
    });

    async function openHost(maxLagEvents: number): Promise<PluginHost> {
      host = await PluginHost.open({
        store: pipeline.store,
        bus: pipeline.bus,
        log,
        roots: [root],
        // Held until the test answers: only a hang may end the wait.
        limits: { wallMsPerRun: HANG_MS },
        fetch: () => new Promise((resolve) => held.push(resolve)),
        maxLagEvents,
        lagCheckMs: 20,
      });
      await host.start('test', { blockMs: 50 });
      return host;
    }

    it('a plugin that waits falls behind alone; past the limit it skips ahead to the newest, the gap its fault', async () => {
      const plugins = await openHost(5);
      const first = chats.slice(0, 12);
      const ids = [await pipeline.bus.publish('events', first[0]!)];
      await waitFor(() => held.length === 1, 'the waiter to wait on its first request');
      ids.push(...(await pipeline.bus.publishMany('events', first.slice(1))));
      // The other plugin handles every event while the waiter is still on the first.
      await waitFor(() => answered('quick').length >= first.length, 'the quick plugin to answer every chat');
      expect(answered('quick').slice(-first.length)).toEqual(first.map((event) => event.eventId));
      expect(held).toHaveLength(1);
      expect(await pipeline.bus.processed('events', pluginGroup('waiter'), ids[0]!)).toBe(false);

      await waitFor(async () => /skipped ahead/.test((await getPluginRow(pipeline.store, 'waiter'))?.lastError ?? ''), 'the gap to be recorded');
      expect((await getPluginRow(pipeline.store, 'waiter'))?.lastError).toMatch(/^limit: fell 12 events behind \(at most 5\); skipped ahead to the newest$/);
      answerAll();
      await waitFor(() => plugins.processed(ids.at(-1)!), 'the waiter to skip to the newest event');
      // It finished the event in hand, skipped the rest, and goes on with what comes next.
      const next = chats[12]!;
      await pipeline.bus.publish('events', next);
      await waitFor(() => held.length === 1, 'the waiter to take the next chat');
      answerAll();
      await waitFor(() => answered('waiter').includes(next.eventId), 'the waiter to answer the next chat');
      expect(answered('waiter')).toEqual([first[0]!.eventId, next.eventId]);
      await waitFor(() => plugins.lagOf('waiter') === 0, 'the lag to be measured as none');
    });

    it('switching off a plugin stuck in its work answers at once, and the others go on', async () => {
      const plugins = await openHost(1_000);
      const [stuck, after] = [chats[13]!, chats[14]!];
      await pipeline.bus.publish('events', stuck);
      await waitFor(() => held.length === 1, 'the waiter to be stuck on its request');
      const waiter = discoverPlugins([root]).plugins.find((plugin) => plugin.manifest.id === 'waiter')!;
      await disablePlugin(pipeline.store, waiter);
      expect(await plugins.apply('waiter')).toMatchObject({ enabled: false });
      expect(plugins.loaded.has('waiter')).toBe(false);
      const id = await pipeline.bus.publish('events', after);
      await waitFor(() => answered('quick').includes(after.eventId), 'the quick plugin to answer');
      await waitFor(() => plugins.processed(id), 'the running plugins to be done');
      await enablePlugin(pipeline.store, waiter);
    });
  });
}
