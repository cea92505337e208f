import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UnifiedEventOf } from '@ttlp/sdk';
import { writePlugin } from '../../../sdk/test/support/plugin-dir.ts';
import type { BusEntry, EventBus, OverlayMessage } from '../bus/types.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { getPluginRow, kvGet, listActions } from '../store/plugins.ts';
import { BACKEND_KINDS, createTestBackend, type TestBackend } from '../../test/support/backends.ts';
import { captureEvents } from '../../test/support/captures.ts';
import { HANG_MS, waitFor } from '../../test/support/patience.ts';
import { configurePlugin, disablePlugin, enablePlugin, grantPermissions, PluginAdminError } from './admin.ts';
import { discoverPlugins } from './discovery.ts';
import { PluginHost } from './plugin-host.ts';

const log = createLogger({ level: 'silent', destination: process.stderr });

/** A plugins folder with the given plugins copied in under their ids. */
function pluginsRoot(plugins: Array<{ source: string; manifest: Record<string, unknown> }>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'ttlp-plugins-'));
  for (const { source, manifest } of plugins) {
    const dir = writePlugin(source, manifest);
    const target = path.join(root, String(manifest.id));
    rmSync(target, { recursive: true, force: true });
    // A rename keeps the folder's files; the temporary one is cleaned up with the root.
    renameSync(dir, target);
  }
  return root;
}

const counter = {
  source: `
    import { definePlugin } from '@ttlp/sdk';
    export default definePlugin<{ label: string }>({
      setup(ctx) {
        ctx.on('CHAT', async (event) => {
          const count = ((await ctx.kv.get<number>('chats')) ?? 0) + 1;
          await ctx.kv.set('chats', count);
          await ctx.overlay.send('feed', { label: ctx.config.label, count, text: event.payload.message });
        });
      },
    });`,
  manifest: {
    id: 'counter',
    permissions: { events: ['CHAT'], kv: true },
    overlayChannels: ['feed'],
    config: { type: 'object', properties: { label: { type: 'string', default: 'chat' } }, additionalProperties: false },
  },
};

const snoop = {
  source: `
    import { definePlugin } from '@ttlp/sdk';
    export default definePlugin({
      setup(ctx) {
        ctx.on('CHAT', async () => { await ctx.overlay.send('snoop', { chats: (await ctx.kv.get('chats')) ?? null }); });
      },
    });`,
  manifest: { id: 'snoop', permissions: { events: ['CHAT'], kv: true }, overlayChannels: ['snoop'] },
};

const looper = {
  source: `
    import { definePlugin } from '@ttlp/sdk';
    export default definePlugin({ setup(ctx) { ctx.on('*', () => { for (;;) {} }); } });`,
  manifest: { id: 'looper', permissions: { events: ['*'] }, overlayChannels: [] },
};

async function overlayMessages(bus: EventBus): Promise<OverlayMessage[]> {
  const messages: OverlayMessage[] = [];
  const consumer = bus.consume({
    stream: 'overlay',
    group: 'test-reader',
    consumer: 'test',
    stage: 'test',
    blockMs: 50,
    handler: async (entries: BusEntry<OverlayMessage>[]) => {
      messages.push(...entries.map((entry) => entry.payload));
    },
  });
  const last = await bus.lastId('overlay');
  if (last) await waitFor(() => bus.processed('overlay', 'test-reader', last), 'the overlay messages to be read');
  await consumer.stop();
  return messages;
}

for (const kind of BACKEND_KINDS) {
  describe(`plugin host on the ${kind} back-end`, () => {
    let backend: TestBackend;
    let pipeline: Pipeline;
    const root = pluginsRoot([counter, snoop, looper]);
    const chats = captureEvents('web.capture.ndjson').filter((event): event is UnifiedEventOf<'CHAT'> => event.eventType === 'CHAT');

    beforeAll(async () => {
      backend = await createTestBackend(kind);
      pipeline = await Pipeline.open(loadConfig(backend.env), log);
    });

    afterAll(async () => {
      await pipeline.close();
      await backend.dispose();
      rmSync(root, { recursive: true, force: true });
    });

    it('lists every problem of a broken manifest and loads the others', () => {
      const broken = pluginsRoot([{ source: 'export default {}', manifest: { id: 'Bad Id', version: 'one', permissions: { events: ['NOPE'] } } }]);
      const discovery = discoverPlugins([root, broken]);
      expect(discovery.plugins.map((plugin) => plugin.manifest.id)).toEqual(['counter', 'looper', 'snoop']);
      expect(discovery.problems).toHaveLength(1);
      const problems = discovery.problems[0]!.problems.join('\n');
      expect(problems).toContain('ttlp/id must match pattern');
      expect(problems).toContain('ttlp/version must match pattern');
      expect(problems).toContain('ttlp/permissions/events/0');
      rmSync(broken, { recursive: true, force: true });
    });

    it('enables a plugin only with its requested permissions granted, and settings that fit its schema', async () => {
      const [counterPlugin] = discoverPlugins([root]).plugins;
      await expect(enablePlugin(pipeline.store, counterPlugin!)).rejects.toThrow(/needs these permissions granted first: events:CHAT, overlay:feed, kv/);
      await expect(grantPermissions(pipeline.store, counterPlugin!, ['http:https://x.example/**'])).rejects.toBeInstanceOf(PluginAdminError);
      await expect(configurePlugin(pipeline.store, counterPlugin!, { label: 5 })).rejects.toThrow(/\/label must be string/);
      expect(await grantPermissions(pipeline.store, counterPlugin!, 'all')).toEqual(['events:CHAT', 'kv', 'overlay:feed']);
      await configurePlugin(pipeline.store, counterPlugin!, { label: 'web' });
      await enablePlugin(pipeline.store, counterPlugin!);
      expect(await getPluginRow(pipeline.store, 'counter')).toMatchObject({ enabled: true, status: 'enabled', config: { label: 'web' } });
    });

    it("runs enabled plugins on the events stream: overlay messages, kv scoped per plugin, actions logged; a hostile plugin is disabled while the others get every event", async () => {
      const discovered = discoverPlugins([root]).plugins;
      for (const plugin of discovered) {
        await grantPermissions(pipeline.store, plugin, 'all');
        await enablePlugin(pipeline.store, plugin);
      }
      const host = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log, roots: [root] });
      expect([...host.loaded.keys()].sort()).toEqual(['counter', 'looper', 'snoop']);
      await host.start('test-host', { blockMs: 50 });
      const ids = await pipeline.bus.publishMany('events', chats);
      while (!(await host.processed(ids.at(-1)!))) await delay(50);
      await host.close();

      const messages = await overlayMessages(pipeline.bus);
      const feed = messages.filter((message) => message.channel === 'feed');
      expect(feed.map((message) => message.data)).toEqual(chats.map((event, i) => ({ label: 'web', count: i + 1, text: event.payload?.message })));
      expect(feed.map((message) => message.eventId)).toEqual(chats.map((event) => event.eventId));
      // snoop asks for the same key in its own kv: it never sees counter's.
      const snooped = messages.filter((message) => message.channel === 'snoop');
      expect(snooped).toHaveLength(chats.length);
      expect(snooped.every((message) => (message.data as { chats: unknown }).chats === null)).toBe(true);
      expect(await kvGet(pipeline.store, 'counter', 'chats')).toBe(chats.length);
      expect(await kvGet(pipeline.store, 'snoop', 'chats')).toBeUndefined();

      const actions = await listActions(pipeline.store, 'counter');
      expect(actions.filter((action) => action.action === 'overlay:feed')).toHaveLength(chats.length);
      expect(actions.filter((action) => action.action === 'kv.set')).toHaveLength(chats.length);
      expect(actions.every((action) => action.status === 'ok' && action.eventId !== null)).toBe(true);

      const looperRow = await getPluginRow(pipeline.store, 'looper');
      expect(looperRow).toMatchObject({ enabled: false, status: 'disabled' });
      expect(looperRow!.lastError).toMatch(/5 faults within 60 s; the last: used more than \d+ ms of CPU/);
      expect(looperRow!.faultCount).toBeGreaterThanOrEqual(5);
    });
    it('applies changes made to the store by another process: enabled, reconfigured, disabled', async () => {
      const root = pluginsRoot([{ ...counter, manifest: { ...counter.manifest, id: 'follower' } }]);
      const [plugin] = discoverPlugins([root]).plugins;
      const host = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log, roots: [root] });
      host.followStore(50);
      expect(host.loaded.has('follower')).toBe(false);
      // What `ttlp plugin enable`, or another host's API, writes.
      await grantPermissions(pipeline.store, plugin!, 'all');
      await enablePlugin(pipeline.store, plugin!);
      await vi.waitFor(() => expect(host.loaded.has('follower')).toBe(true), { timeout: HANG_MS });
      const first = host.loaded.get('follower')!.sandbox;
      await configurePlugin(pipeline.store, plugin!, { label: 'elsewhere' });
      // Restarted, not merely stopped: between the two the plugin is not loaded at all.
      await vi.waitFor(() => expect(host.loaded.get('follower')?.sandbox ?? first).not.toBe(first), { timeout: HANG_MS });
      await host.dispatch(chats.slice(0, 1));
      await disablePlugin(pipeline.store, plugin!);
      await vi.waitFor(() => expect(host.loaded.has('follower')).toBe(false), { timeout: HANG_MS });
      await host.close();
      const feed = (await overlayMessages(pipeline.bus)).filter((message) => message.pluginId === 'follower').map((message) => message.data);
      expect(feed).toEqual([{ label: 'elsewhere', count: 1, text: chats[0]!.payload?.message }]);
      rmSync(root, { recursive: true, force: true });
    });

    it("keeps a plugin's log fields under their own key: a plugin cannot pass for another", async () => {
      const root = pluginsRoot([
        {
          source: `
            import { definePlugin } from '@ttlp/sdk';
            export default definePlugin({ setup(ctx) { ctx.on('CHAT', () => ctx.log.warn('hello', { plugin: 'alerts', msg: 'forged', level: 60 })); } });`,
          manifest: { id: 'impostor', permissions: { events: ['CHAT'] } },
        },
      ]);
      const [plugin] = discoverPlugins([root]).plugins;
      await grantPermissions(pipeline.store, plugin!, 'all');
      await enablePlugin(pipeline.store, plugin!);
      const lines: Array<Record<string, unknown>> = [];
      const destination = new Writable({
        write(chunk, _encoding, done) {
          for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      });
      const host = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log: createLogger({ level: 'info', pretty: false, destination }), roots: [root] });
      await host.dispatch(chats.slice(0, 1));
      await host.close();
      const line = lines.find((entry) => entry.msg === 'hello')!;
      expect(line).toMatchObject({ plugin: 'impostor', level: 40, fields: { plugin: 'alerts', msg: 'forged', level: 60 } });
      rmSync(root, { recursive: true, force: true });
    });

    it('reloads a plugin when its files change (--dev), keeping its kv; a broken change leaves it running', async () => {
      const root = pluginsRoot([{ ...counter, manifest: { ...counter.manifest, id: 'reloader' } }]);
      const [plugin] = discoverPlugins([root]).plugins;
      await grantPermissions(pipeline.store, plugin!, 'all');
      await enablePlugin(pipeline.store, plugin!);
      const host = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log, roots: [root] });
      const reloads: Array<string | undefined> = [];
      host.watch((_id, error) => reloads.push(error));
      await host.dispatch(chats.slice(0, 2));
      const source = path.join(root, 'reloader', 'index.ts');
      writeFileSync(source, readFileSync(source, 'utf8').replace('label: ctx.config.label', "label: 'v2'"));
      await vi.waitFor(() => expect(reloads).toEqual([undefined]), { timeout: HANG_MS });
      await host.dispatch(chats.slice(2, 3));
      writeFileSync(source, 'export default definePlugin({ setup( };');
      await vi.waitFor(() => expect(reloads).toHaveLength(2), { timeout: HANG_MS });
      expect(reloads[1]).toContain('index.ts:1:');
      await host.dispatch(chats.slice(3, 4));
      await host.close();
      const feed = (await overlayMessages(pipeline.bus)).filter((message) => message.pluginId === 'reloader').map((message) => message.data);
      expect(feed).toEqual([
        { label: 'chat', count: 1, text: chats[0]!.payload?.message },
        { label: 'chat', count: 2, text: chats[1]!.payload?.message },
        { label: 'v2', count: 3, text: chats[2]!.payload?.message },
        { label: 'v2', count: 4, text: chats[3]!.payload?.message },
      ]);
      rmSync(root, { recursive: true, force: true });
    });

    it('does not run a plugin whose setup fails: it stays enabled, failed with the reason, until started again once fixed', async () => {
      // kv without the kv grant: the setup's first await rejects, so the setup throws.
      const broken = `
        import { definePlugin } from '@ttlp/sdk';
        export default definePlugin({
          async setup(ctx) {
            const greeting = await ctx.kv.get('greeting');
            ctx.on('CHAT', () => ctx.overlay.send('main', { greeting }));
          },
        });`;
      const root = pluginsRoot([{ source: broken, manifest: { id: 'no-setup', permissions: { events: ['CHAT'] }, overlayChannels: ['main'] } }]);
      const [plugin] = discoverPlugins([root]).plugins;
      await grantPermissions(pipeline.store, plugin!, 'all');
      await enablePlugin(pipeline.store, plugin!);
      const host = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log, roots: [root] });
      expect(host.loaded.has('no-setup')).toBe(false);
      await vi.waitFor(async () => expect(await getPluginRow(pipeline.store, 'no-setup')).toMatchObject({ enabled: true, status: 'failed', faultCount: 1 }), { timeout: HANG_MS });
      expect((await getPluginRow(pipeline.store, 'no-setup'))!.lastError).toBe('setup failed: error: Error: not allowed to use kv (grant "kv" is missing)');

      // Fixed, and switched on again (what the API's enable does): it runs.
      writeFileSync(path.join(root, 'no-setup', 'index.ts'), broken.replace("await ctx.kv.get('greeting')", "'hi'"));
      await enablePlugin(pipeline.store, plugin!);
      expect(await host.apply('no-setup')).toMatchObject({ enabled: true, status: 'enabled' });
      expect(host.loaded.has('no-setup')).toBe(true);
      await host.close();
      rmSync(root, { recursive: true, force: true });
    });

    it('disables a plugin whose code throws as it loads, with the reason, and carries on', async () => {
      const source = `import { definePlugin } from '@ttlp/sdk';\nthrow new Error('broken at load');\nexport default definePlugin({ setup() {} });`;
      const root = pluginsRoot([{ source, manifest: { id: 'load-throws', permissions: { events: ['CHAT'] }, overlayChannels: [] } }]);
      const [plugin] = discoverPlugins([root]).plugins;
      await grantPermissions(pipeline.store, plugin!, 'all');
      await enablePlugin(pipeline.store, plugin!);
      const host = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log, roots: [root] });
      expect(host.loaded.has('load-throws')).toBe(false);
      await vi.waitFor(async () => expect(await getPluginRow(pipeline.store, 'load-throws')).toMatchObject({ enabled: false, status: 'disabled' }), { timeout: HANG_MS });
      expect((await getPluginRow(pipeline.store, 'load-throws'))!.lastError).toContain('broken at load');
      await host.close();
      rmSync(root, { recursive: true, force: true });
    });
  });
}
