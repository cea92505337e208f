/** The `ttlp` command as a user runs it: a real process, stdin, stdout, stderr and exit codes. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { validateUnifiedEvent, type UnifiedEvent } from '@ttlp/sdk/contract';
import { captureFiles, capturesDir, captureLines, readmeFacts, repoRoot } from '../../test/support/captures.ts';
import { endWithTest, runTtlp, type TtlpRun } from '../../test/support/ttlp-process.ts';
import { runNormalize, type NormalizeCommandOptions } from './normalize-command.ts';

const bin = path.join(repoRoot, 'host/bin/ttlp.js');
/** Commands run in an empty folder, so a developer's own .env cannot change what they do. */
const cwd = mkdtempSync(path.join(tmpdir(), 'ttlp-cli-'));

type Run = TtlpRun;

const ttlp = (args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<Run> => runTtlp(args, { cwd, env, input });

async function normalizeInProcess(input: string, options: NormalizeCommandOptions = {}) {
  const output = new PassThrough();
  const errors = new PassThrough();
  let stdout = '';
  let stderr = '';
  output.on('data', (chunk) => (stdout += chunk));
  errors.on('data', (chunk) => (stderr += chunk));
  const code = await runNormalize(options, { input: PassThroughFrom(input), output, errors });
  return { code, events: stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as UnifiedEvent), stderr };
}

function PassThroughFrom(text: string): PassThrough {
  const stream = new PassThrough();
  stream.end(text);
  return stream;
}

const allCaptures = () => captureFiles().map((file) => readFileSync(path.join(capturesDir(), file), 'utf8')).join('');

/** Distinct (type, msgId) pairs of capture text, decoded independently of the normalizer's code path. */
function distinctMessages(events: UnifiedEvent[]): number {
  return new Set(events.map((e) => `${e.rawType}:${e.seqNo}`)).size;
}

describe('ttlp normalize', () => {
  it('turns every line of every shared capture into one schema-valid event (real process)', async () => {
    const input = allCaptures();
    const run = await ttlp(['normalize', '--stats'], input);
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as UnifiedEvent);
    expect(events).toHaveLength(input.trim().split('\n').length);
    for (const event of events) expect(validateUnifiedEvent(event).ok).toBe(true);
    // One session over all files: an eventId per distinct TikTok message (type + msgId).
    const eventIds = new Set(events.map((e) => e.eventId));
    expect(eventIds.size).toBe(distinctMessages(events));
    const stats = JSON.parse(run.stderr.trim().split('\n').at(-1)!);
    expect(stats).toMatchObject({ read: events.length, events: events.length, rejected: 0 });
    expect(Object.values(stats.byType as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(events.length);
  });

  it.each(captureFiles())('%s: distinct eventIds match the README', async (file) => {
    const { code, events } = await normalizeInProcess(captureLines(file).join('\n'));
    expect(code).toBe(0);
    const facts = readmeFacts()[file]!;
    expect(events).toHaveLength(facts.lines);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(facts.distinct);
  });

  it('uses the given session id and stream id', async () => {
    const sessionId = '6f1c2b1e-9a55-4d8e-8a36-0c1f6a1f7b10';
    const { events } = await normalizeInProcess(captureLines('jw.capture.ndjson').join('\n'), { sessionId, streamId: '99' });
    expect(events.every((e) => e.sessionId === sessionId && e.streamId === '99')).toBe(true);
  });

  it('accepts raw.v1 envelopes as well as capture lines', async () => {
    const { events: fromCapture } = await normalizeInProcess(captureLines('singles.capture.ndjson').join('\n'));
    const envelope = {
      schemaVersion: 'raw.v1',
      streamId: '1',
      sessionId: fromCapture[0]!.sessionId,
      source: 'replay',
      type: 'connected',
      seqNo: '1',
      timestamp: '2023-08-22T17:16:44.212Z',
      ingestedAt: '2023-08-22T17:16:44.212Z',
      data: { roomId: '1', provider: 'capture' },
    };
    const { code, events } = await normalizeInProcess(JSON.stringify(envelope));
    expect(code).toBe(0);
    expect(events).toEqual([expect.objectContaining({ eventType: 'CONNECTED', source: 'replay', streamId: '1' })]);
  });

  it('reports a rejected line with its number and code, and stops with exit 1', async () => {
    const [first, second] = captureLines('jw.capture.ndjson');
    const run = await ttlp(['normalize'], [first, '{"broken": ', second].join('\n'));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('line 2: INPUT_NOT_JSON');
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('--keep-going reports every rejected line, normalizes the rest and exits 0', async () => {
    const [first, second] = captureLines('jw.capture.ndjson');
    const badEnvelope = JSON.stringify({ schemaVersion: 'raw.v1', type: 'WebcastChatMessage' });
    const { code, events, stderr } = await normalizeInProcess([first, 'nope', badEnvelope, '', second].join('\n'), { keepGoing: true });
    expect(code).toBe(0);
    expect(events).toHaveLength(2);
    expect(stderr).toMatch(/^line 2: INPUT_NOT_JSON /m);
    expect(stderr).toMatch(/^line 3: NORMALIZE_BAD_ENVELOPE /m);
  });

  it('rejects a bad --session-id with a clear message and exit 2', async () => {
    const run = await ttlp(['normalize', '--session-id', 'abc']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('must be a UUID');
  });
});

describe('ttlp help and misuse', () => {
  it.each([[['--help']], [['normalize', '--help']], [['start', '--help']]])('%j prints usage and exits 0', async (args) => {
    const run = await ttlp(args);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: ttlp');
  });

  it('an unknown command exits 2 and says so', async () => {
    const run = await ttlp(['frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'frobnicate'");
  });

  it('no command prints usage on stderr and exits 2', async () => {
    const run = await ttlp([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: ttlp');
  });
});

describe('ttlp start', () => {
  it('runs the demo through the normalizer, logs events as JSON, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--no-node-snapshot', bin, 'start', '--log-format', 'json', '--demo-rate', '200', '--demo-seed', '11', '--port', '0'], {
      cwd,
      stdio: 'pipe',
    });
    endWithTest(child);
    const lines: Array<Record<string, unknown>> = [];
    let buffer = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const enoughEvents = new Promise<void>((resolve, reject) => {
      // A host that exits early fails the test now, not at the test timeout.
      child.once('close', (code) => reject(new Error(`ttlp start exited with ${code} after ${lines.length} log lines\n${stderr}`)));
      child.stdout.on('data', (chunk) => {
        buffer += chunk;
        const complete = buffer.split('\n');
        buffer = complete.pop()!;
        for (const line of complete) lines.push(JSON.parse(line));
        if (lines.filter((l) => l.eventType).length >= 60) resolve();
      });
    });
    await enoughEvents;
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    expect(lines[0]!.msg).toMatch(/^plugins running: none \(found: alerts, chat, goals, leaderboard/);
    expect(lines.find((l) => l.component === 'http')!.msg).toMatch(/^Server listening at http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines.find((l) => String(l.msg).includes('demo provider'))).toBeDefined();
    // The banner (stderr with JSON logs): the settings page, the first start's admin token, each overlay's URL.
    expect(stderr).toMatch(/Settings page: {2}http:\/\/127\.0\.0\.1:\d+\//);
    expect(stderr).toMatch(/Admin token: {4}ttlp_admin_[A-Za-z0-9_-]{43}\n/);
    // No plugin runs yet: the host's counters, and where the plugins' widgets come from.
    expect(stderr).toMatch(/\n {4}host\/counters +http:\/\/127\.0\.0\.1:\d+\/overlay\/host\/counters\?token=ttlp_ov_[A-Za-z0-9_-]+\n {2}Each plugin you enable in the settings page adds its widgets/);
    // No log line carries a token.
    expect(lines.some((l) => JSON.stringify(l).includes('ttlp_admin_') || JSON.stringify(l).includes('ttlp_ov_'))).toBe(false);
    const events = lines.filter((l) => l.eventType);
    expect(events[0]!.eventType).toBe('CONNECTED');
    expect(new Set(events.map((e) => e.eventType)).size).toBeGreaterThanOrEqual(4);
    expect(events.every((e) => typeof e.eventId === 'string' && /^[0-9a-f]{64}$/.test(e.eventId as string))).toBe(true);
    expect(lines.some((l) => l.level === 40)).toBe(false);
    expect(lines.at(-1)!.msg).toBe('ttlp host stopped');
    // Everything the demo produced before the stop was stored, and logged once stored.
    const closing = lines.find((l) => typeof l.received === 'number')!;
    expect(closing.stored).toBe(closing.received);
    expect(lines.filter((l) => l.eventType)).toHaveLength(closing.received as number);
  });

  it('reads .env from the working directory, below the real environment', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ttlp-env-'));
    // A TikTok URL where nothing listens, and no second attempt: the host gives up on the user at once.
    writeFileSync(path.join(dir, '.env'), 'TIKTOK_USERNAME=from_dotenv\nLOG_FORMAT=json\nLOG_LEVEL=silent\nTIKTOK_URL=http://127.0.0.1:9\nRECONNECT_MAX_ATTEMPTS=1\nPORT=0\n');
    const run = await new Promise<Run>((resolve) => {
      const { TIKTOK_USERNAME: _user, ...env } = process.env;
      const child = spawn(process.execPath, ['--no-node-snapshot', bin, 'start'], { cwd: dir, stdio: 'pipe', env: { ...env, LOG_LEVEL: 'error' } });
      endWithTest(child);
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
    });
    expect(run.code).toBe(1);
    // The user came from .env; the log level from the environment (with .env's "silent" nothing would show).
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ level: 50, user: 'from_dotenv', kind: 'gave-up' });
    expect(lines.at(-1)).toMatchObject({ level: 50, msg: 'stopped following every user; the host stops' });
  });

  it('lists every configuration problem and exits 2', async () => {
    const run = await ttlp(['start'], '', { DEMO_RATE: 'fast', LOG_LEVEL: 'loud' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DEMO_RATE / --demo-rate: must be number');
    expect(run.stderr).toContain('LOG_LEVEL / --log-level');
  });
});

describe('ttlp import and replay (embedded back-end, real processes)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ttlp-import-'));
  const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

  it('imports a capture, prints one JSON summary on the last line, and replays the stored session', async () => {
    const imported = await ttlp(['import', path.join(capturesDir(), 'jw.capture.ndjson'), '--json', '--data-dir', dataDir]);
    expect(imported.code, imported.stderr).toBe(0);
    const summary = lastJson(imported.stdout);
    const facts = readmeFacts()['jw.capture.ndjson']!;
    expect(summary).toMatchObject({ read: facts.lines, stored: facts.distinct, duplicates: facts.redeliveries, rejected: 0 });
    expect(Object.keys(summary).sort()).toEqual(['byType', 'duplicates', 'read', 'rejected', 'seconds', 'sessionId', 'stored']);

    const replayed = await ttlp(['replay', summary.sessionId, '--json', '--data-dir', dataDir]);
    expect(replayed.code, replayed.stderr).toBe(0);
    // The replay carries the session's lifecycle events too.
    expect(lastJson(replayed.stdout)).toMatchObject({ replayedFrom: summary.sessionId, published: facts.distinct + 2, stored: facts.distinct + 2 });
  });

  it('reports every rejected capture line on stderr and counts it', async () => {
    const [chat] = captureLines('singles.capture.ndjson').filter((line) => line.includes('"WebcastChatMessage"'));
    const giftless = JSON.stringify({ ts: '2023-08-22T17:16:45.000Z', type: 'WebcastGiftMessage', proto: '' });
    const file = path.join(dataDir, 'bad.capture.ndjson');
    writeFileSync(file, [chat, 'not json', giftless].join('\n'));
    const run = await ttlp(['import', file, '--json', '--data-dir', dataDir]);
    expect(run.code, run.stderr).toBe(0);
    expect(lastJson(run.stdout)).toMatchObject({ read: 3, stored: 1, rejected: 2 });
    expect(run.stderr).toContain('line 2 rejected: INPUT_NOT_JSON');
    expect(run.stderr).toContain('WebcastGiftMessage (seqNo 3) rejected: NORMALIZE_BAD_FIELD');
  });

  it('says which file is missing, with exit 2', async () => {
    const run = await ttlp(['import', path.join(dataDir, 'nope.ndjson'), '--data-dir', dataDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no capture file at');
  });

  it('says which session is unknown, with exit 1', async () => {
    const run = await ttlp(['replay', '00000000-0000-4000-8000-000000000000', '--data-dir', dataDir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no stored session 00000000-0000-4000-8000-000000000000');
  });
});
