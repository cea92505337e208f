/** The whole pipeline (ingest → raw → normalizer → events → storage) on both back-ends. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawEnvelope, UnifiedEvent } from '@ttlp/sdk';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import type { DeadLetter } from '../bus/types.ts';
import { CaptureProvider } from '../ingest/capture.ts';
import { computeEventId } from '../normalize/index.ts';
import { queryRows } from '../store/database.ts';
import { countEvents, getSession, sessionEvents } from '../store/sessions.ts';
import { runImport, type ImportSummary } from '../cli/import-command.ts';
import { runReplay } from '../cli/replay-command.ts';
import { BACKEND_KINDS, createTestBackend, type TestBackend } from '../../test/support/backends.ts';
import { captureFiles, capturesDir, readmeFacts } from '../../test/support/captures.ts';
import { Pipeline } from './pipeline.ts';
import { publishForged } from '../../test/support/bus-entries.ts';

const log = createLogger({ level: 'silent' });
const facts = readmeFacts();
const capture = (name: string) => path.join(capturesDir(), name);

async function allEvents(pipeline: Pipeline, sessionId: string): Promise<UnifiedEvent[]> {
  return sessionEvents(pipeline.store, sessionId, { limit: 100_000 });
}

async function totalRows(pipeline: Pipeline): Promise<number> {
  const [row] = await queryRows<{ count: string | number }>(pipeline.store, sql`select count(*) as count from events`);
  return Number(row!.count);
}

describe.each(BACKEND_KINDS)('pipeline on the %s back-end', (kind) => {
  let backend: TestBackend;
  const imports = new Map<string, { signal: AbortSignal; summary: Promise<ImportSummary> }>();

  /**
   * A capture's import, done once by whichever test needs it first: later tests build on it
   * without depending on an earlier test having passed.
   */
  function imported(file: string, signal: AbortSignal): Promise<ImportSummary> {
    const started = imports.get(file);
    // An import that failed, or was stopped with a test that timed out, is done again.
    if (started && !started.signal.aborted) return started.summary;
    const summary = runImport(capture(file), {}, { env: backend.env, signal });
    imports.set(file, { signal, summary });
    summary.catch(() => {
      if (imports.get(file)?.summary === summary) imports.delete(file);
    });
    return summary;
  }

  /** A pipeline of the test's own, for looking at and feeding the back-end directly. */
  async function withPipeline<T>(work: (pipeline: Pipeline) => Promise<T>, stages = true): Promise<T> {
    const pipeline = await Pipeline.open(loadConfig(backend.env), log);
    try {
      if (stages) pipeline.startStages();
      return await work(pipeline);
    } finally {
      await pipeline.close();
    }
  }

  beforeAll(async () => {
    backend = await createTestBackend(kind);
  });
  afterAll(async () => backend?.dispose());

  it('imports every shared capture: one row per distinct message, re-deliveries counted as duplicates', async ({ signal }) => {
    for (const file of captureFiles()) {
      const summary = await imported(file, signal);
      const expected = facts[file]!;
      expect({ file, read: summary.read, stored: summary.stored, duplicates: summary.duplicates, rejected: summary.rejected }).toEqual({
        file,
        read: expected.lines,
        stored: expected.distinct,
        duplicates: expected.redeliveries,
        rejected: 0,
      });
      expect(Object.values(summary.byType).reduce((a, b) => a + b, 0)).toBe(summary.stored);
    }
    const lifecycleRows = 2 * captureFiles().length;
    const distinct = Object.values(facts).reduce((sum, f) => sum + f.distinct, 0);
    await withPipeline(async (pipeline) => expect(await totalRows(pipeline)).toBe(distinct + lifecycleRows), false);
  });

  it('stores a capture imported again as a new session, doubling its rows', async ({ signal }) => {
    const first = await imported('jw.capture.ndjson', signal);
    const again = await runImport(capture('jw.capture.ndjson'), {}, { env: backend.env, signal });
    expect(again.sessionId).not.toBe(first.sessionId);
    expect(again.stored).toBe(first.stored);
    await withPipeline(async (pipeline) => {
      const a = await allEvents(pipeline, first.sessionId);
      const b = await allEvents(pipeline, again.sessionId);
      expect(b).toHaveLength(a.length);
      const firstIds = new Set(a.map((e) => e.eventId));
      expect(b.some((e) => firstIds.has(e.eventId))).toBe(false);
    }, false);
  });

  it('stores nothing new when a session’s raw entries are delivered again', async ({ signal }) => {
    const { sessionId } = await imported('ab.capture.ndjson', signal);
    await withPipeline(async (pipeline) => {
      const before = await totalRows(pipeline);
      const provider = new CaptureProvider({ file: capture('ab.capture.ndjson'), sessionId });
      const result = await pipeline.ingest(provider, { type: 'live', provider: 'capture' });
      expect(result.published).toBe(facts['ab.capture.ndjson']!.lines + 2);
      await pipeline.waitForStored(result.lastId, { signal });
      expect(await totalRows(pipeline)).toBe(before);
    });
  });

  it('replays a session as a new one: same order, source replay, new eventIds, replayedFrom recorded', async ({ signal }) => {
    const { sessionId: original } = await imported('giftsCollector.capture.ndjson', signal);
    const summary = await runReplay(original, {}, { env: backend.env, signal });
    await withPipeline(async (pipeline) => {
      const before = await allEvents(pipeline, original);
      const after = await allEvents(pipeline, summary.sessionId);
      expect(summary).toMatchObject({ replayedFrom: original, published: before.length, stored: before.length });
      expect(after.map((e) => [e.rawType, e.seqNo, e.eventType])).toEqual(before.map((e) => [e.rawType, e.seqNo, e.eventType]));
      for (const event of after) {
        expect(event.source).toBe('replay');
        expect(event.sessionId).toBe(summary.sessionId);
        expect(event.eventId).toBe(computeEventId(event.streamId, summary.sessionId, event.seqNo!, event.rawType!));
      }
      const originalIds = new Set(before.map((e) => e.eventId));
      expect(after.some((e) => originalIds.has(e.eventId))).toBe(false);
      const session = await getSession(pipeline.store, summary.sessionId);
      expect(session).toMatchObject({ type: 'replay', provider: 'replay', meta: { replayedFrom: original } });
    }, false);
  });

  it('sends malformed raw entries to the dead-letter stream with a reason and keeps flowing', async ({ signal }) => {
    await withPipeline(async (pipeline) => {
      const provider = new CaptureProvider({ file: capture('singles.capture.ndjson'), lifecycle: false });
      const good: RawEnvelope[] = [];
      for await (const envelope of provider.envelopes()) good.push(envelope);
      const [first, second, ...rest] = good;
      const dlqBefore = await pipeline.bus.lastId('dlq');
      const chat = good.find((e) => e.type === 'WebcastChatMessage')!;
      const malformed = [{ nonsense: true }, 'text', { ...chat, data: { ...chat.data, content: 42 } }];
      const ids = await publishForged(pipeline.bus, 'raw', [first, ...malformed, second, ...rest]);
      await pipeline.waitForStored(ids.at(-1), { signal });
      expect(await countEvents(pipeline.store, provider.sessionId)).toBe(good.length);
      const letters = (await pipeline.bus.range<DeadLetter>('dlq', { start: dlqBefore })).filter((entry) => entry.id !== dlqBefore);
      expect(letters.map((l) => [l.payload.stage, l.payload.reason])).toEqual([
        ['normalize', 'INVALID_ENTRY'],
        ['normalize', 'INVALID_ENTRY'],
        ['normalize', 'NORMALIZE_BAD_FIELD'],
      ]);
      expect(letters[2]!.payload).toMatchObject({ error: 'data.content must be a string', source: { stream: 'raw' } });
      expect(letters[0]!.payload.payload).toEqual({ nonsense: true });
    });
  });

  it('counts undecodable and unnormalizable capture lines as rejected and dead-letters them', async ({ signal }) => {
    const [chat, gift] = ['WebcastChatMessage', 'WebcastGiftMessage'].map(
      (type) => readFileSync(capture('singles.capture.ndjson'), 'utf8').split('\n').find((line) => line.includes(`"${type}"`))!,
    );
    const badProto = JSON.stringify({ ts: '2023-08-22T17:16:44.212Z', type: 'WebcastChatMessage', proto: '//////////8=' });
    // A gift message without its gift decodes fine but cannot become a GIFT event.
    const giftless = JSON.stringify({ ts: '2023-08-22T17:16:45.000Z', type: 'WebcastGiftMessage', proto: '' });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ttlp-bad-')), 'bad.capture.ndjson');
    writeFileSync(file, [chat, 'not json', badProto, giftless, gift].join('\n'));
    const summary = await runImport(file, {}, { env: backend.env, signal });
    expect(summary).toMatchObject({ read: 5, stored: 2, duplicates: 0, rejected: 3 });
    // The embedded bus lives in the importing process; only Redis keeps the dead letters afterwards.
    if (kind === 'embedded') return;
    await withPipeline(async (pipeline) => {
      const letters = await pipeline.bus.range<DeadLetter>('dlq');
      const mine = letters.filter((l) => l.payload.stage === 'ingest' || (l.payload.payload as { sessionId?: string })?.sessionId === summary.sessionId);
      expect(mine.map((l) => [l.payload.stage, l.payload.reason]).sort()).toEqual(
        [
          ['ingest', 'INPUT_NOT_JSON'],
          ['ingest', 'CAPTURE_DECODE_FAILED'],
          ['normalize', 'NORMALIZE_BAD_FIELD'],
        ].sort(),
      );
    }, false);
  });

  it('dead-letters forged entries on the events stream instead of storing them', async ({ signal }) => {
    await withPipeline(async (pipeline) => {
      const dlqBefore = await pipeline.bus.lastId('dlq');
      const [id] = await publishForged(pipeline.bus, 'events', [{ eventType: 'CHAT', eventId: 'not-an-id' }]);
      await pipeline.waitForEventsStored(id, { signal });
      const letters = (await pipeline.bus.range<DeadLetter>('dlq', { start: dlqBefore })).filter((entry) => entry.id !== dlqBefore);
      expect(letters.map((l) => [l.payload.stage, l.payload.reason])).toEqual([['store', 'INVALID_ENTRY']]);
    });
  });
});
