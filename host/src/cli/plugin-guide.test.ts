/**
 * The plugin in docs/plugin-guide.md, as printed there and put into a scaffold the way the guide
 * says, passes the strict type check of the scaffold and the test printed there. The guide's
 * gift-streak example, as printed, counts the captures' coins with each streak once. Its widget, as
 * printed, type-checks with the browser's types and builds (overlays/test/plugin-widgets.test.ts
 * runs it in a browser).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { UnifiedEvent } from '@ttlp/sdk';
import { createTestHost, ROOMY_CPU_LIMITS } from '@ttlp/sdk/testing';
import { captureEvents, captureFiles, repoRoot } from '../../test/support/captures.ts';
import { blockAfter, readGuide, writeGuideWidgetPlugin } from '../../test/support/guide.ts';
import { buildWidget } from '../plugin-widgets/build.ts';
import { validateManifest } from '@ttlp/sdk/manifest';
import { scaffoldPlugin } from './new-plugin.ts';

// Inside the repository, so @ttlp/sdk, vitest and TypeScript resolve without an npm install.
mkdirSync(path.join(repoRoot, 'data'), { recursive: true });
const parent = mkdtempSync(path.join(repoRoot, 'data', 'plugin-guide-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** Runs a Node script of the repository's node_modules; its exit code and all it printed. */
function runNode(script: string, args: string[]): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'node_modules', script), ...args], {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: 'pipe',
    });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, text }));
  });
}

it('builds the guide’s plugin, type-checks it strictly and passes the guide’s test', async () => {
  const guide = readGuide();
  const dir = scaffoldPlugin('top-chatter', parent);
  for (const file of ['package.json', 'src/index.ts', 'test/top-chatter.test.ts']) writeFileSync(path.join(dir, file), blockAfter(guide, file));
  // The guide's other whole plugin, the gift-streak one, is held to the same type check.
  writeFileSync(path.join(dir, 'src/gift-coins.ts'), blockAfter(guide, 'src/index.ts', '### Gift streaks'));

  const typeCheck = await runNode('typescript/bin/tsc', ['-p', path.join(dir, 'tsconfig.json')]);
  expect(typeCheck.text).toBe('');
  expect(typeCheck.code).toBe(0);

  const test = await runNode('vitest/vitest.mjs', ['run', '--root', dir]);
  expect(test.text).toMatch(/Tests\s+2 passed/);
  expect(test.code).toBe(0);
});

/** The coins of a capture's gifts: every streak (sender, groupId, gift) by its highest running total, other gifts in full. */
function coinsOnce(events: UnifiedEvent[]): number {
  const streaks = new Map<string, number>();
  let coins = 0;
  for (const event of events) {
    if (event.eventType !== 'GIFT') continue;
    const gift = event.payload;
    const key = `${event.user.userId}/${gift.groupId}/${gift.giftId}`;
    if (gift.isGiftStreak) streaks.set(key, Math.max(streaks.get(key) ?? 0, gift.coins));
    else coins += gift.coins;
  }
  return [...streaks.values()].reduce((sum, streak) => sum + streak, coins);
}

it('counts every gift streak of the captures once with the guide’s GiftStreaks example', async () => {
  const guide = readGuide();
  const plugin = path.join(parent, 'gift-coins');
  mkdirSync(path.join(plugin, 'src'), { recursive: true });
  const ttlp = { id: 'gift-coins', displayName: 'Gift coins', version: '0.1.0', entry: 'src/index.ts', permissions: { events: ['GIFT'] }, overlayChannels: ['coins'] };
  writeFileSync(path.join(plugin, 'package.json'), JSON.stringify({ name: 'gift-coins', private: true, type: 'module', ttlp }));
  writeFileSync(path.join(plugin, 'src/index.ts'), blockAfter(guide, 'src/index.ts', '### Gift streaks'));

  let overCounted = 0;
  for (const file of captureFiles()) {
    const events = captureEvents(file);
    const gifts = events.filter((event) => event.eventType === 'GIFT');
    if (gifts.length === 0) continue;
    if (gifts.reduce((sum, event) => sum + event.payload.coins, 0) > coinsOnce(events)) overCounted += 1;
    const host = await createTestHost({ plugin, limits: ROOMY_CPU_LIMITS });
    await host.send(...events);
    expect(host.faults, file).toEqual([]);
    expect(host.state('coins'), file).toEqual({ coins: coinsOnce(events) });
    await host.close();
  }
  // Adding up each message's coins would count the captures' streaks several times over.
  expect(overCounted).toBeGreaterThan(0);
});

it('type-checks and builds the guide’s widget, with the manifest that declares it', async () => {
  const dir = scaffoldPlugin('top-chatter-widget', parent);
  writeGuideWidgetPlugin(dir);
  const { ttlp } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { ttlp: unknown };
  const manifest = validateManifest(ttlp);
  expect(manifest.ok ? [] : manifest.problems).toEqual([]);
  // As the guide says: a plugin with a widget adds "DOM" to its tsconfig's lib.
  const tsconfig = JSON.parse(readFileSync(path.join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: { lib: string[] } };
  tsconfig.compilerOptions.lib.push('DOM');
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const typeCheck = await runNode('typescript/bin/tsc', ['-p', path.join(dir, 'tsconfig.json')]);
  expect(typeCheck.text).toBe('');
  expect(typeCheck.code).toBe(0);
  const built = await buildWidget(dir, 'src/widget.ts');
  expect(built.ok ? 'built' : built.error).toBe('built');
});
