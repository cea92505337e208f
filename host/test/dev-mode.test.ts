/**
 * `ttlp start --dev` as a plugin author uses it: a plugin folder made while the host runs shows in
 * the settings page's list, disabled until switched on there; switched on, every save of its entry
 * reloads it; its folder removed, it leaves the list. Each step polls for what the host shows.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startHost, type HostProcess } from './support/host-process.ts';
import { HANG_MS } from './support/patience.ts';

const root = mkdtempSync(path.join(tmpdir(), 'ttlp-dev-mode-'));
const folder = path.join(root, 'dev-greeter');
let host: HostProcess;

/** The plugin's entry: its setup logs which build it is. */
const entry = (build: string) => `
  import { definePlugin } from '@ttlp/sdk';
  export default definePlugin({ setup(ctx) { ctx.log.info('dev-greeter build ${build}'); } });`;

interface Listed {
  id: string;
  enabled: boolean;
  running: boolean;
  requestedPermissions: string[];
}

async function api(method: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${host.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${host.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status, `${method} ${route}`).toBe(200);
  return response.json();
}

const listed = async () => ((await api('GET', '/api/plugins')) as { plugins: Listed[] }).plugins.find((plugin) => plugin.id === 'dev-greeter');

/** Whether the host's JSON log has a line whose message is `message`. */
const logged = (message: string) =>
  host.stdout.split('\n').some((line) => {
    try {
      return (JSON.parse(line) as { msg?: unknown }).msg === message;
    } catch {
      return false;
    }
  });

beforeAll(async () => {
  host = await startHost({ args: ['--dev', '--no-ingest'], env: { PLUGINS_DIR: root } });
});

afterAll(async () => {
  await host?.stop();
  rmSync(root, { recursive: true, force: true });
});

it('lists a plugin folder made while the host runs, reloads it on every save once switched on, and unlists it when its folder goes', async () => {
  expect(await listed()).toBeUndefined();
  mkdirSync(path.join(folder, 'src'), { recursive: true });
  writeFileSync(path.join(folder, 'src', 'index.ts'), entry('one'));
  const ttlp = { id: 'dev-greeter', displayName: 'Dev greeter', version: '0.1.0', entry: 'src/index.ts', permissions: { events: ['CHAT'] }, overlayChannels: [] };
  writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: 'dev-greeter', private: true, type: 'module', ttlp }, null, 2));

  await vi.waitFor(async () => expect(await listed()).toMatchObject({ enabled: false, running: false, requestedPermissions: ['events:CHAT'] }), { timeout: HANG_MS, interval: 100 });
  expect(await api('POST', '/api/plugins/dev-greeter/enable', { grant: ['events:CHAT'] })).toMatchObject({ enabled: true, running: true });
  const built = (build: string) => vi.waitFor(() => expect(logged(`dev-greeter build ${build}`), host.stdout.slice(-2000)).toBe(true), { timeout: HANG_MS, interval: 100 });
  await built('one');
  for (const build of ['two', 'three']) {
    writeFileSync(path.join(folder, 'src', 'index.ts'), entry(build));
    await built(build);
  }

  rmSync(folder, { recursive: true });
  await vi.waitFor(async () => expect(await listed()).toBeUndefined(), { timeout: HANG_MS, interval: 100 });
});
