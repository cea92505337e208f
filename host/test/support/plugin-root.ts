/**
 * A plugin root folder for whole-host tests: plugins written as a user installs them (a folder
 * with a `package.json` manifest and an `index.ts`), under one temp dir given to the host as
 * `PLUGINS_DIR`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** What a test plugin declares: its id, what it asks for, and its code. */
export interface TestPluginSpec {
  id: string;
  /** The entry file, `index.ts`: it must default-export `definePlugin(…)` from `@ttlp/sdk`. */
  source: string;
  permissions: { events: string[]; kv?: boolean; http?: string[] };
  overlayChannels?: string[];
}

export interface PluginRoot {
  dir: string;
  remove(): void;
}

/** Writes `plugins` as folders of a new temp dir. */
export function writePluginRoot(plugins: readonly TestPluginSpec[]): PluginRoot {
  const dir = mkdtempSync(path.join(tmpdir(), 'ttlp-plugin-root-'));
  for (const plugin of plugins) {
    const folder = path.join(dir, plugin.id);
    mkdirSync(folder);
    const ttlp = {
      id: plugin.id,
      displayName: plugin.id,
      version: '1.0.0',
      entry: 'index.ts',
      permissions: plugin.permissions,
      overlayChannels: plugin.overlayChannels ?? [],
    };
    writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: plugin.id, private: true, type: 'module', ttlp }, null, 2));
    writeFileSync(path.join(folder, 'index.ts'), plugin.source);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Uses kv without the kv grant: its setup's first await rejects, so the setup throws. */
export const FAILING_SETUP_PLUGIN: TestPluginSpec = {
  id: 'no-setup',
  permissions: { events: ['CHAT'] },
  source: `
    import { definePlugin } from '@ttlp/sdk';
    export default definePlugin({ async setup(ctx) { await ctx.kv.get('greeting'); ctx.on('CHAT', () => {}); } });`,
};

/** Counts the chats it receives in kv (`chats`). */
export const CHAT_COUNTER_PLUGIN: TestPluginSpec = {
  id: 'counter',
  permissions: { events: ['CHAT'], kv: true },
  source: `
    import { definePlugin } from '@ttlp/sdk';
    export default definePlugin({ setup(ctx) { ctx.on('CHAT', async () => ctx.kv.set('chats', ((await ctx.kv.get('chats')) ?? 0) + 1)); } });`,
};
