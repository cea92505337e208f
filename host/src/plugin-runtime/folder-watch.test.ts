/**
 * Development mode (`PluginHost.watch`, folder-watch.ts): every plugin folder is watched whatever
 * its plugin's state, saves in place and by rename in any sub-folder reload a running plugin, and
 * plugin folders are listed as they appear and go. Each wait polls for what the host did; none
 * assumes how soon it does it.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writePlugin } from '../../../sdk/test/support/plugin-dir.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { getPluginRow, kvGet } from '../store/plugins.ts';
import { createTestBackend, type TestBackend } from '../../test/support/backends.ts';
import { HANG_MS } from '../../test/support/patience.ts';
import { enablePlugin, grantPermissions } from './admin.ts';
import { PluginHost } from './plugin-host.ts';

const log = createLogger({ level: 'silent', destination: process.stderr });

/** A plugin that records, in its kv at setup, the build it runs: `lib/build.ts`'s `BUILD`; a build named "broken" fails its setup. */
const recorder = `
  import { definePlugin } from '@ttlp/sdk';
  import { BUILD } from './lib/build.ts';
  export default definePlugin({
    async setup(ctx) {
      if (BUILD === 'broken') throw new Error('a broken build');
      await ctx.kv.set('build', BUILD);
    },
  });`;
const build = (name: string) => `export const BUILD = '${name}';\n`;

/** Writes a recorder plugin under `root` as `<id>/`, its folder appearing whole. */
function addPlugin(root: string, id: string): string {
  const dir = writePlugin(recorder, { id, permissions: { events: ['CHAT'], kv: true }, overlayChannels: [] }, { 'lib/build.ts': build('one') });
  const target = path.join(root, id);
  renameSync(dir, target);
  return target;
}

/** An editor that saves by writing a temporary file and renaming it over the original. */
function saveByRename(file: string, text: string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.swp`);
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

describe('development mode', () => {
  let backend: TestBackend;
  let pipeline: Pipeline;
  const roots: string[] = [];
  const hosts: PluginHost[] = [];

  /** A new empty plugin root. */
  const newRoot = () => {
    const root = mkdtempSync(path.join(tmpdir(), 'ttlp-dev-plugins-'));
    roots.push(root);
    return root;
  };

  const watchedHost = async (pluginRoots: string[]) => {
    const host = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log, roots: pluginRoots });
    hosts.push(host);
    const reloads: Array<{ pluginId: string; error?: string }> = [];
    host.watch((pluginId, error) => reloads.push({ pluginId, error }));
    return { host, reloads };
  };

  /** Grants and enables a plugin as the settings page does, and applies it to the running host. */
  const switchOn = async (host: PluginHost, pluginId: string) => {
    const plugin = host.available.find((candidate) => candidate.manifest.id === pluginId)!;
    await grantPermissions(pipeline.store, plugin, 'all');
    await enablePlugin(pipeline.store, plugin);
    await host.apply(pluginId);
  };

  const builtAs = async (pluginId: string, name: string) =>
    vi.waitFor(async () => expect(await kvGet(pipeline.store, pluginId, 'build')).toBe(name), { timeout: HANG_MS, interval: 50 });

  beforeAll(async () => {
    backend = await createTestBackend('embedded');
    pipeline = await Pipeline.open(loadConfig(backend.env), log);
  });

  afterAll(async () => {
    for (const host of hosts) await host.close();
    await pipeline.close();
    await backend.dispose();
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it('reloads a plugin switched on after the watch began, on saves in place and by rename, in new sub-folders too', async () => {
    const root = newRoot();
    const dir = addPlugin(root, 'later');
    const { host, reloads } = await watchedHost([root]);
    expect(host.loaded.has('later')).toBe(false);
    await switchOn(host, 'later');
    await builtAs('later', 'one');

    const file = path.join(dir, 'lib', 'build.ts');
    writeFileSync(file, build('in place'));
    await builtAs('later', 'in place');
    saveByRename(file, build('renamed'));
    await builtAs('later', 'renamed');
    // Once a file was replaced by a rename, a save in place must still be heard.
    writeFileSync(file, build('in place again'));
    await builtAs('later', 'in place again');

    mkdirSync(path.join(dir, 'lib', 'deep'));
    writeFileSync(path.join(dir, 'lib', 'deep', 'name.ts'), "export const NAME = 'deep';\n");
    writeFileSync(file, "export { NAME as BUILD } from './deep/name.ts';\n");
    await builtAs('later', 'deep');
    writeFileSync(path.join(dir, 'lib', 'deep', 'name.ts'), "export const NAME = 'deeper';\n");
    await builtAs('later', 'deeper');

    expect(reloads.length).toBeGreaterThanOrEqual(5);
    expect(reloads.filter((reload) => reload.pluginId !== 'later' || reload.error !== undefined)).toEqual([]);
  });

  it('leaves a running plugin as it is while an edit breaks its manifest, and reloads it once fixed', async () => {
    const root = newRoot();
    const dir = addPlugin(root, 'steady');
    const { host, reloads } = await watchedHost([root]);
    await switchOn(host, 'steady');
    await builtAs('steady', 'one');
    const manifest = path.join(dir, 'package.json');
    const good = JSON.parse(readFileSync(manifest, 'utf8')) as { ttlp: Record<string, unknown> };

    writeFileSync(manifest, JSON.stringify({ ...good, ttlp: { ...good.ttlp, version: 'two' } }));
    await vi.waitFor(() => expect(host.problems.map((problem) => problem.dir)).toEqual([dir]), { timeout: HANG_MS });
    await vi.waitFor(() => expect(reloads.at(-1)?.error).toMatch(/ttlp\/version must match pattern/), { timeout: HANG_MS });
    expect(host.available.map((plugin) => plugin.manifest.id)).toEqual(['steady']);
    expect(host.loaded.has('steady')).toBe(true);

    writeFileSync(path.join(dir, 'lib', 'build.ts'), build('fixed'));
    writeFileSync(manifest, JSON.stringify({ ...good, ttlp: { ...good.ttlp, version: '2.0.0' } }));
    await builtAs('steady', 'fixed');
    await vi.waitFor(() => expect(host.problems).toEqual([]), { timeout: HANG_MS });
    expect(host.available.find((plugin) => plugin.manifest.id === 'steady')?.manifest.version).toBe('2.0.0');
  });

  it('starts again, once edited, a plugin switched on whose setup failed', async () => {
    const root = newRoot();
    const dir = addPlugin(root, 'mended');
    writeFileSync(path.join(dir, 'lib', 'build.ts'), build('broken'));
    const { host } = await watchedHost([root]);
    await switchOn(host, 'mended');
    expect(host.loaded.has('mended')).toBe(false);
    writeFileSync(path.join(dir, 'lib', 'build.ts'), build('mended'));
    await builtAs('mended', 'mended');
    expect(host.loaded.has('mended')).toBe(true);
  });

  it('lists a new plugin folder, disabled until switched on; a removed one is stopped and unlisted, and starts again when it comes back', async () => {
    const root = newRoot();
    const { host } = await watchedHost([root]);
    expect(host.available).toEqual([]);

    // Made step by step, as a copy or `ttlp plugin new` does: the folder first, its manifest last.
    const dir = path.join(root, 'newcomer');
    mkdirSync(path.join(dir, 'lib'), { recursive: true });
    writeFileSync(path.join(dir, 'lib', 'build.ts'), build('one'));
    writeFileSync(path.join(dir, 'index.ts'), recorder);
    const ttlp = { id: 'newcomer', displayName: 'Newcomer', version: '1.0.0', entry: 'index.ts', permissions: { events: ['CHAT'], kv: true }, overlayChannels: [] };
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'newcomer', private: true, type: 'module', ttlp }));
    await vi.waitFor(() => expect(host.available.map((plugin) => plugin.manifest.id)).toEqual(['newcomer']), { timeout: HANG_MS });
    expect(await getPluginRow(pipeline.store, 'newcomer')).toMatchObject({ enabled: false, grantedPermissions: [] });
    expect(host.loaded.has('newcomer')).toBe(false);

    await switchOn(host, 'newcomer');
    await builtAs('newcomer', 'one');
    const kept = path.join(newRoot(), 'newcomer');
    renameSync(dir, kept);
    await vi.waitFor(() => expect(host.available).toEqual([]), { timeout: HANG_MS });
    await vi.waitFor(() => expect(host.loaded.has('newcomer')).toBe(false), { timeout: HANG_MS });

    writeFileSync(path.join(kept, 'lib', 'build.ts'), build('back'));
    renameSync(kept, dir);
    await vi.waitFor(() => expect(host.loaded.has('newcomer')).toBe(true), { timeout: HANG_MS });
    await builtAs('newcomer', 'back');
  });

  it('reports a new folder whose manifest is broken, and watches a root made after the host started', async () => {
    const root = newRoot();
    const later = path.join(root, 'made-later');
    const { host } = await watchedHost([root, later]);

    const broken = path.join(root, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'package.json'), JSON.stringify({ name: 'broken', ttlp: { id: 'Broken!' } }));
    await vi.waitFor(() => expect(host.problems.map((problem) => problem.dir)).toEqual([broken]), { timeout: HANG_MS });
    expect(host.problems[0]!.problems.join('\n')).toContain('ttlp/id must match pattern');

    mkdirSync(later);
    addPlugin(later, 'late-root');
    await vi.waitFor(() => expect(host.available.map((plugin) => plugin.manifest.id)).toEqual(['late-root']), { timeout: HANG_MS });
    rmSync(broken, { recursive: true });
    await vi.waitFor(() => expect(host.problems).toEqual([]), { timeout: HANG_MS });
  });
});
