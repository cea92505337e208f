/** `ttlp plugin …` as a user runs it, from scaffolding a plugin to the host running it. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, pluginQuotas } from '@ttlp/sdk/sandbox';
import { repoRoot } from '../../test/support/captures.ts';
import { endWithTest } from '../../test/support/ttlp-process.ts';
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
});
