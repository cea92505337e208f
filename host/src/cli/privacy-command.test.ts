/** `ttlp gdpr erase` and `ttlp prune` as a user runs them, on the embedded back-end. */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureEvents, capturesDir } from '../../test/support/captures.ts';
import { runTtlp } from '../../test/support/ttlp-process.ts';
import { createTestBackend, type TestBackend } from '../../test/support/backends.ts';

const cwd = mkdtempSync(path.join(tmpdir(), 'ttlp-privacy-cli-'));
let backend: TestBackend;
const ttlp = (args: string[], env: NodeJS.ProcessEnv = {}) => runTtlp(args, { cwd, env: { ...backend.env, ...env } });

/** A viewer who chatted in the capture. */
const chatter = captureEvents('web.capture.ndjson').find((event) => event.eventType === 'CHAT' && event.user.uniqueId)!.user;

let stored = 0;

beforeAll(async () => {
  backend = await createTestBackend('embedded');
  const imported = await ttlp(['import', path.join(capturesDir(), 'web.capture.ndjson'), '--json']);
  expect(imported.code, imported.stderr).toBe(0);
  stored = JSON.parse(imported.stdout.trim().split('\n').at(-1)!).stored;
});

afterAll(async () => {
  await backend?.dispose();
});

describe('ttlp gdpr erase', () => {
  it('erases a viewer by handle, once; a second request changes nothing', async () => {
    const first = await ttlp(['gdpr', 'erase', '--unique-id', `@${chatter.uniqueId}`, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ alreadyErased: false, tablesTouched: expect.arrayContaining(['users', 'events']) });
    expect(summary.rowsAffected).toBeGreaterThan(0);
    expect(summary.subjectHmac).toMatch(/^[0-9a-f]{64}$/);
    // Nothing of the request's identifier in what the command printed, beyond what was asked.
    expect(first.stdout).not.toContain(chatter.userId);

    const again = await ttlp(['gdpr', 'erase', '--user-id', chatter.userId, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout.trim().split('\n').at(-1)!)).toMatchObject({ alreadyErased: true, rowsAffected: 0 });

    // The secret was made once, readable by its owner only.
    const secretFile = path.join(backend.env.DATA_DIR!, 'pseudonymization.secret');
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(Buffer.byteLength(readFileSync(secretFile, 'utf8').trim())).toBeGreaterThanOrEqual(32);
  });

  it('says what is wrong with a request, with exit 2 (misuse) or 1 (nobody found)', async () => {
    const both = await ttlp(['gdpr', 'erase', '--user-id', '1', '--unique-id', 'x']);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('exactly one of --user-id and --unique-id')]);
    expect((await ttlp(['gdpr', 'erase'])).code).toBe(2);
    const nobody = await ttlp(['gdpr', 'erase', '--unique-id', 'nobody_ever_chatted_here']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr.length).toBeGreaterThan(0);
  });

  it('refuses a short secret, and needs one with PostgreSQL, before touching any data', async () => {
    const short = await ttlp(['gdpr', 'erase', '--user-id', chatter.userId], { PSEUDONYMIZATION_SECRET: 'tiny-secret-value' });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('PSEUDONYMIZATION_SECRET');
    expect(short.stderr).not.toContain('tiny-secret-value');
    const production = await ttlp(['prune', '--dry-run'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', PSEUDONYMIZATION_SECRET: '' });
    expect(production.code).toBe(2);
    expect(production.stderr).toContain('PSEUDONYMIZATION_SECRET');
  });
});

describe('ttlp prune', () => {
  it('reports what a dry run would do without doing it, then does it', async () => {
    const last = (run: { stdout: string }) => JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    // The capture was recorded in 2023: its events are past the 90 days, its viewers past the year.
    const dry = await ttlp(['prune', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const planned = last(dry);
    expect(planned).toMatchObject({ dryRun: true, eventsDeleted: 0 });
    // Every stored event, the import's own lifecycle events (CONNECTED, DISCONNECTED) too.
    expect(planned.eventsArchived).toBeGreaterThanOrEqual(stored);
    expect(planned.usersDue).toBeGreaterThan(0);
    expect(planned.usersPseudonymized).toBe(planned.usersDue);

    // The dry run changed nothing: the real run finds the same work.
    const real = await ttlp(['prune']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain(`${planned.eventsArchived} events archived`);
    expect(last(await ttlp(['prune', '--dry-run', '--json']))).toMatchObject({ eventsArchived: 0, usersDue: 0 });
  });
});
