/**
 * The production back-ends misbehaving under a running pipeline: killed Redis connections,
 * terminated PostgreSQL backends, a host killed mid-import. Nothing may be lost or duplicated.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { CaptureProvider } from '../ingest/capture.ts';
import { countEvents } from '../store/sessions.ts';
import { runImport } from '../cli/import-command.ts';
import { createTestBackend, redisAdmin, type TestBackend } from '../../test/support/backends.ts';
import { captureFiles, capturesDir, repoRoot } from '../../test/support/captures.ts';
import { waitFor } from '../../test/support/patience.ts';
import { endWithTest } from '../../test/support/ttlp-process.ts';
import { Pipeline } from './pipeline.ts';

const bin = path.join(repoRoot, 'host/bin/ttlp.js');
const signal = new AbortController().signal;

/**
 * Every shared capture, three times over, as one file: 4,656 messages of which 1,525 are
 * distinct (the captures share three messages; each repeat is a re-delivery).
 */
function bigCapture(): { file: string; lines: number } {
  const text = captureFiles()
    .map((file) => readFileSync(path.join(capturesDir(), file), 'utf8'))
    .join('');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ttlp-failures-')), 'three-times.capture.ndjson');
  writeFileSync(file, text.repeat(3));
  return { file, lines: text.repeat(3).trim().split('\n').length };
}

const DISTINCT_MESSAGES = 1525;

/**
 * While `until` runs, calls `action` every `everyMs` until it has hit something `rounds` times;
 * returns the total it reports (connections killed, backends terminated).
 */
async function meanwhile(until: Promise<unknown>, everyMs: number, rounds: number, action: () => Promise<number>): Promise<number> {
  let done = false;
  void until.finally(() => (done = true)).catch(() => undefined);
  let hits = 0;
  let hitRounds = 0;
  while (!done && hitRounds < rounds) {
    await delay(everyMs);
    if (done) break;
    const hit = await action();
    hits += hit;
    if (hit > 0) hitRounds += 1;
  }
  return hits;
}

describe('pipeline failures on PostgreSQL + Redis', () => {
  let backend: TestBackend;
  const big = bigCapture();

  // Each test on a database and key prefix of its own.
  beforeEach(async () => {
    backend = await createTestBackend('production', { STORE_BATCH_SIZE: '50', BUS_CLAIM_IDLE_MS: '1000' });
  });
  afterEach(async () => backend?.dispose());

  it('finishes an import exactly while its Redis connections are killed', async () => {
    const redis = await redisAdmin();
    const ours = `name=ttlp-${hostname()}-${process.pid}-`;
    try {
      const importing = runImport(big.file, {}, { env: backend.env, signal });
      const kills = await meanwhile(importing, 100, 5, async () => {
        const clients = ((await redis.client('LIST')) as string).split('\n').filter((line) => line.includes(ours));
        for (const client of clients) await redis.client('KILL', 'ID', /\bid=(\d+)/.exec(client)![1]!).catch(() => 0);
        return clients.length;
      });
      const summary = await importing;
      expect(kills).toBeGreaterThan(0);
      expect(summary).toMatchObject({ read: big.lines, stored: DISTINCT_MESSAGES, duplicates: big.lines - DISTINCT_MESSAGES, rejected: 0 });
    } finally {
      await redis.quit();
    }
  });

  it('finishes an import exactly while its PostgreSQL backends are terminated', async () => {
    const admin = new pg.Client({ connectionString: backend.databaseUrl });
    await admin.connect();
    try {
      const importing = runImport(big.file, {}, { env: backend.env, signal });
      // Once events are being stored (the import is under way), every backend but ours is terminated, five times over.
      const underWay = async () =>
        (await admin.query(`select to_regclass('public.events') is not null as ready`)).rows[0].ready &&
        (await admin.query('select exists (select 1 from events) as started')).rows[0].started;
      const terminated = await meanwhile(importing, 100, 5, async () => {
        if (!(await underWay())) return 0;
        const result = await admin.query(
          'select count(*) filter (where pg_terminate_backend(pid)) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
        );
        return Number(result.rows[0].n);
      });
      const summary = await importing;
      expect(terminated).toBeGreaterThan(0);
      expect(summary).toMatchObject({ read: big.lines, stored: DISTINCT_MESSAGES, duplicates: big.lines - DISTINCT_MESSAGES, rejected: 0 });
    } finally {
      await admin.end();
    }
  });

  it('recovers the entries of a host killed mid-import when another host starts', async () => {
    const pipeline = await Pipeline.open(loadConfig(backend.env), createLogger({ level: 'silent' }));
    const hosts: ChildProcess[] = [];
    const startHost = () => {
      const child = spawn(process.execPath, ['--no-node-snapshot', bin, 'start', '--no-ingest', '--port', '0'], { env: { ...process.env, ...backend.env }, stdio: 'ignore' });
      endWithTest(child);
      hosts.push(child);
      return child;
    };
    try {
      // Publish only: the stages run in the hosts started below.
      const provider = new CaptureProvider({ file: big.file });
      const published = await pipeline.ingest(provider, { type: 'live', provider: 'capture' });
      const stored = () => countEvents(pipeline.store, provider.sessionId, { excludeLifecycle: true });

      const first = startHost();
      await waitFor(async () => (await stored()) > 0, 'the first host to store something');
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      const partial = await stored();
      expect(partial).toBeLessThan(DISTINCT_MESSAGES);

      startHost();
      await waitFor(async () => pipeline.bus.processed('raw', 'normalizer', published.lastId!), 'the raw entries to be normalized');
      const eventsLastId = await pipeline.bus.lastId('events');
      await waitFor(async () => pipeline.bus.processed('events', 'storage', eventsLastId!), 'the events to be stored');
      expect(await stored()).toBe(DISTINCT_MESSAGES);
      expect(await pipeline.bus.length('dlq')).toBe(0);
    } finally {
      for (const host of hosts) host.kill('SIGKILL');
      await pipeline.close();
    }
  });

  it('names the unreachable PostgreSQL URL, without its password, and exits non-zero', async () => {
    const env = { ...process.env, ...backend.env, DATABASE_URL: 'postgres://ttlp:hunter2secret@127.0.0.1:1/ttlp' };
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--no-node-snapshot', bin, 'import', big.file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      endWithTest(child);
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot reach PostgreSQL at postgres://ttlp:***@127.0.0.1:1/ttlp');
    expect(run.stderr).not.toContain('hunter2secret');
  });
});
