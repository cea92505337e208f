/** `ttlp plugin …` as a user runs it, from scaffolding a plugin to the host running it. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, pluginQuotas } from '@ttlp/sdk/sandbox';
import type { PluginView } from '@ttlp/sdk/host-contract';
import { LOCAL_ACCESS_FILE } from '../api/local-access.ts';
import { repoRoot } from '../../test/support/captures.ts';
import { startHost } from '../../test/support/host-process.ts';
import { CHAT_COUNTER_PLUGIN, FAILING_SETUP_PLUGIN, writePluginRoot } from '../../test/support/plugin-root.ts';
import { endWithTest, runTtlp } from '../../test/support/ttlp-process.ts';
import type { PluginListEntry } from './plugin-command.ts';

const bin = path.join(repoRoot, 'host/bin/ttlp.js');
const cwd = mkdtempSync(path.join(tmpdir(), 'ttlp-cli-'));
const dataDir = mkdtempSync(path.join(tmpdir(), 'ttlp-data-'));
// Inside the repository, so the scaffold resolves @ttlp/sdk and vitest the way a plugin in ./data/plugins does.
mkdirSync(path.join(repoRoot, 'data'), { recursive: true });
const pluginsDir = mkdtempSync(path.join(repoRoot, 'data', 'plugins-test-'));
const env = { DATA_DIR: dataDir, PLUGINS_DIR: pluginsDir, LOG_FORMAT: 'json', LOG_LEVEL: 'info', NO_COLOR: '1', FORCE_COLOR: '0', PORT: '0' };

afterAll(() => {
  for (const dir of [cwd, dataDir, pluginsDir]) rmSync(dir, { recursive: true, force: true });
});

function run(command: string[], options: { stopWhen?: RegExp } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, command, { cwd, env: { ...process.env, ...env }, stdio: 'pipe' });
    endWithTest(child);
    let stdout = '';
    let stderr = '';
    let stopping = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      // One Ctrl+C: the host drains and exits by itself (a second one would kill it).
      if (!stopping && options.stopWhen?.test(stdout)) {
        stopping = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const ttlp = (args: string[], options?: { stopWhen?: RegExp }) => run(['--no-node-snapshot', bin, ...args], options);

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('ttlp plugin', () => {
  it('scaffolds a plugin whose generated test passes, then grants, enables, configures and runs it', async () => {
    const created = await ttlp(['plugin', 'new', 'greeter', '--dir', pluginsDir]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const dir = path.join(pluginsDir, 'greeter');
    expect(created.stdout).toContain(`created ${dir}`);

    const tested = await run(['--no-node-snapshot', path.join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir]);
    expect(tested.stdout + tested.stderr).toMatch(/Tests\s+1 passed/);
    expect(tested.code).toBe(0);

    const listed = await ttlp(['plugin', 'list', '--json']);
    expect(listed.code).toBe(0);
    const entries = JSON.parse(listed.stdout) as PluginListEntry[];
    expect(entries.map((entry) => entry.id)).toEqual(expect.arrayContaining(['alerts', 'chat', 'goals', 'leaderboard', 'greeter']));
    expect(entries.find((entry) => entry.id === 'greeter')).toMatchObject({
      enabled: false,
      requested: ['events:FOLLOW', 'overlay:main', 'kv'],
      granted: [],
    });

    expect(entries.find((entry) => entry.id === 'greeter')!.quotas).toEqual(pluginQuotas(DEFAULT_LIMITS));

    const table = await ttlp(['plugin', 'list']);
    expect(table.stdout).toContain('greeter  Greeter 0.1.0  disabled (never enabled)\n  permissions: events:FOLLOW, overlay:main, kv  — not granted: events:FOLLOW, overlay:main, kv');
    // Once, after the list: the limits every plugin runs within.
    expect(table.stdout.trimEnd().split('\n').slice(-2)).toEqual([
      'limits per plugin: memory 64 MB, CPU 500 ms/s, overlay 50/event 50/s,',
      '  kv 5000 keys 8 MB, log 20 lines/s 32 KB/s, http 1200/min, timers 64',
    ]);

    const refused = await ttlp(['plugin', 'enable', 'greeter']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('greeter needs these permissions granted first: events:FOLLOW, overlay:main, kv');

    const badConfig = await ttlp(['plugin', 'config', 'greeter', '--set', '{"message": 5, "extra": true}']);
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain('/message must be string');
    expect(badConfig.stderr).toContain("must NOT have additional properties 'extra'");

    expect((await ttlp(['plugin', 'config', 'greeter', '--set', '{"message": "Hi {name}"}'])).code).toBe(0);
    const enabled = await ttlp(['plugin', 'enable', 'greeter', '--grant-all']);
    expect(enabled.stdout).toContain('greeter: enabled');

    const started = await ttlp(['start', '--demo-rate', '20'], { stopWhen: /plugins running/ });
    expect(started.stdout).toMatch(/plugins running: greeter \(found: .*greeter/);
    expect(started.code).toBe(0);
  });

  it('refuses a bad plugin id and an unknown plugin', async () => {
    const bad = await ttlp(['plugin', 'new', 'Bad_Id', '--dir', pluginsDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"Bad_Id" is not a plugin id');
    const unknown = await ttlp(['plugin', 'enable', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no plugin "nope" \(found: alerts, chat/);
  });

  it('goes through the host that holds the embedded database: the same list, changes applied at once, a failed setup shown with its reason', async () => {
    const root = writePluginRoot([FAILING_SETUP_PLUGIN, CHAT_COUNTER_PLUGIN]);
    const data = mkdtempSync(path.join(tmpdir(), 'ttlp-data-'));
    const plugin = (...args: string[]) => runTtlp(['plugin', ...args], { cwd, env: { DATA_DIR: data, PLUGINS_DIR: root.dir, NO_COLOR: '1' } });

    expect((await plugin('grant', 'counter', 'kv')).stdout).toBe('counter: granted kv\n');
    const listed = await plugin('list');
    const listedJson = await plugin('list', '--json');

    const host = await startHost({ args: ['--data-dir', data, '--no-ingest'], env: { PLUGINS_DIR: root.dir } });
    const admin = { authorization: `Bearer ${host.adminToken}` };
    const viewOf = async (id: string) => (await (await fetch(`${host.url}/api/plugins/${id}`, { headers: admin })).json()) as PluginView;
    // The same output as on the store itself.
    expect(await plugin('list')).toEqual(listed);
    expect(await plugin('list', '--json')).toEqual(listedJson);

    const failed = await plugin('enable', 'no-setup', '--grant-all');
    const reason = 'setup failed: error: Error: not allowed to use kv (grant "kv" is missing)';
    expect(failed).toEqual({ code: 0, stdout: 'no-setup: enabled\n', stderr: `ttlp: no-setup is not running: ${reason}\n` });
    // A fault per attempt to start it: the host's own poll of the database may have tried it too.
    const shown = (await plugin('list')).stdout;
    expect(shown).toContain('no-setup  no-setup 1.0.0  failed (its setup failed, so it does not run)\n  permissions: events:CHAT\n');
    expect(shown).toMatch(/\n {2}last error \(\d faults\): setup failed: error: Error: not allowed to use kv \(grant "kv" is missing\)\n/);

    // Refusals as on the store, changes applied by the host at once.
    expect(await plugin('enable', 'counter')).toMatchObject({ code: 2, stderr: 'ttlp: counter needs these permissions granted first: events:CHAT\n' });
    expect(await plugin('enable', 'nope')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ttlp: no plugin "nope" \(found: alerts, chat, .*counter, no-setup\)/) });
    expect(await plugin('config', 'counter', '--set', '[1]')).toMatchObject({ code: 2, stderr: expect.stringContaining('the settings must be a JSON object') });
    expect((await plugin('grant', 'counter', '--all')).stdout).toBe('counter: granted events:CHAT, kv\n');
    expect((await plugin('enable', 'counter')).stdout).toBe('counter: enabled\n');
    expect(await viewOf('counter')).toMatchObject({ running: true, state: 'running' });
    expect((await plugin('config', 'counter')).stdout).toBe('{}\n');
    expect((await plugin('disable', 'counter')).stdout).toBe('counter: disabled\n');
    expect(await viewOf('counter')).toMatchObject({ running: false, state: 'disabled' });
    const during = await plugin('list', '--json');

    expect(await host.stop()).toBe(0);
    expect(await plugin('list', '--json')).toEqual(during);
    // A host that crashed leaves its file; a live pid (this test's) with nothing at its URL: the store is used.
    writeFileSync(path.join(data, LOCAL_ACCESS_FILE), JSON.stringify({ pid: process.pid, url: `http://127.0.0.1:${await closedPort()}`, token: 'ttlp_api_gone' }));
    expect(await plugin('list', '--json')).toEqual(during);
    rmSync(data, { recursive: true, force: true });
    root.remove();
  });
});
