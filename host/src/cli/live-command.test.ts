/**
 * `ttlp fake-tiktok` in one process and `ttlp start --user … --tiktok-url …` in another, as the
 * README tells users to run them: the capture's messages flow through the real connector into
 * storage and out to an overlay, for two followed users at once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { capturesDir, readmeFacts } from '../../test/support/captures.ts';
import { HANG_MS } from '../../test/support/patience.ts';
import { endWithTest, runTtlp, TTLP_BIN } from '../../test/support/ttlp-process.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ttlp-live-'));
const dataDir = path.join(dir, 'data');
const env = { LOG_LEVEL: 'info', LOG_FORMAT: 'json', DATA_DIR: dataDir };

/** A running ttlp process whose output is collected as it comes. */
function launch(args: string[]) {
  const child = spawn(process.execPath, ['--no-node-snapshot', TTLP_BIN, ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: 'pipe' });
  endWithTest(child);
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => (output.stdout += chunk));
  child.stderr.on('data', (chunk) => (output.stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  /** Resolves with the first match of `pattern` in stdout + stderr. */
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} in ${HANG_MS} ms:\n${output.stdout}\n${output.stderr}`)), HANG_MS);
      const check = () => {
        const match = `${output.stdout}\n${output.stderr}`.match(pattern);
        if (!match) return;
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.stderr.off('data', check);
        resolve(match);
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      check();
    });
  const logLines = () =>
    output.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { child, output, exited, waitFor, logLines };
}

describe('ttlp start against ttlp fake-tiktok', () => {
  it('follows two users through the real connector into storage and an overlay, recording each', async () => {
    const file = 'jw.capture.ndjson';
    const facts = readmeFacts()[file]!;
    const enabled = await runTtlp(['plugin', 'enable', 'chat', '--grant-all'], { cwd: dir, env });
    expect(enabled.code, enabled.stderr).toBe(0);

    // Offline at first, so the overlay socket is open before anything is sent.
    const fake = launch(['fake-tiktok', '--capture', path.join(capturesDir(), file), '--port', '0', '--fast', '--offline-for', '3600']);
    const fakeUrl = (await fake.waitFor(/fake TikTok listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;

    const host = launch(['start', '--user', '@first_creator', '--user', 'second_creator', '--tiktok-url', fakeUrl, '--port', '0', '--live-poll-interval', '0.1', '--record', '{user}.capture.ndjson']);
    const chatOverlay = (await host.waitFor(/chat\/chat +(http:\/\/127\.0\.0\.1:\d+)\/overlay\/chat\/chat\?token=(ttlp_ov_[A-Za-z0-9_-]+)/))!;
    const origin = chatOverlay[1]!;
    await host.waitFor(/is not live; checking again/);
    type Health = { streams: { provider: string; user: string; state: string; reconnects: number }[] };
    let health = (await (await fetch(`${origin}/health`)).json()) as Health;
    expect(health.streams).toEqual([
      { provider: 'direct', user: 'first_creator', state: expect.stringMatching(/offline|connecting/), reconnects: 0 },
      { provider: 'direct', user: 'second_creator', state: expect.stringMatching(/offline|connecting/), reconnects: 0 },
    ]);

    const socket = new WebSocket(`${origin.replace('http', 'ws')}/ws/overlay/chat/chat?token=${chatOverlay[2]}`);
    const frames: { type: string }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));

    for (const user of ['first_creator', 'second_creator']) expect((await fetch(`${fakeUrl}/__fake/live?user=${user}`, { method: 'POST' })).status).toBe(200);
    // Each stream plays to its end: the host logs each stored DISCONNECTED.
    await expect.poll(() => host.logLines().filter((line) => line.eventType === 'DISCONNECTED').length).toBe(2);
    health = (await (await fetch(`${origin}/health`)).json()) as Health;
    expect(health.streams.map((stream) => stream.user)).toEqual(['first_creator', 'second_creator']);
    await expect.poll(() => frames.filter((frame) => frame.type === 'message').length).toBeGreaterThan(0);
    socket.close();

    host.child.kill('SIGINT');
    expect(await host.exited, host.output.stderr).toBe(0);
    fake.child.kill('SIGINT');
    expect(await fake.exited).toBe(0);

    // Every distinct message of the capture was stored once per user, plus CONNECTED, DISCONNECTED and the
    // stream's end (re-deliveries are logged as they pass, but have the eventId of their first delivery).
    const stored = host.logLines().filter((line) => typeof line.eventType === 'string');
    expect(stored.filter((line) => line.eventType === 'CONNECTED')).toHaveLength(2);
    expect(new Set(stored.map((line) => line.eventId)).size).toBe(2 * (facts.distinct + 3));
    for (const user of ['first_creator', 'second_creator']) {
      const lines = readFileSync(path.join(dir, `${user}.capture.ndjson`), 'utf8').trim().split('\n');
      // Everything the fake sent, re-deliveries included, and its stream-end message.
      expect(lines).toHaveLength(facts.lines + 1);
    }
    expect(host.logLines().some((line) => line.level === 50)).toBe(false);
  });

  it('refuses --record with several users and no {user} in the file name', async () => {
    const run = await runTtlp(['start', '--user', 'a', '--user', 'b', '--record', 'one.ndjson'], { cwd: dir, env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('{user}');
  });

  it('refuses the euler provider without an API key, naming the variable', async () => {
    const run = await runTtlp(['start', '--user', 'a', '--provider', 'euler'], { cwd: dir, env: { ...env, EULER_API_KEY: '' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('EULER_API_KEY');
  });
});
