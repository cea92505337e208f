/**
 * Live ingest end to end: the real, unmodified tiktok-live-connector talks to the fake TikTok
 * (fake-tiktok/server.ts), the live provider turns what arrives into sessions, and the real
 * pipeline stores it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UnifiedEvent } from '@ttlp/sdk';
import { loadConfig } from '../../config.ts';
import { createLogger } from '../../log.ts';
import { Pipeline } from '../../pipeline/pipeline.ts';
import { getSession, listSessions, sessionEvents } from '../../store/sessions.ts';
import { BACKEND_KINDS, createTestBackend, type TestBackend } from '../../../test/support/backends.ts';
import { captureEnvelopes, captureFiles, captureLines, capturesDir, readmeFacts } from '../../../test/support/captures.ts';
import { loadCapture } from '../../fake-tiktok/broadcast.ts';
import { FakeTikTok, type FakeTikTokOptions } from '../../fake-tiktok/server.ts';
import { DirectTransport } from './direct.ts';
import { LiveProvider, type LiveNotice, type LiveProviderOptions } from './live-provider.ts';
import { CaptureRecorder } from './recorder.ts';

const log = createLogger({ level: 'silent' });
const facts = readmeFacts();
const capture = (name: string) => path.join(capturesDir(), name);
const LIFECYCLE = new Set(['CONNECTED', 'DISCONNECTED', 'ERROR']);

/** A provider following `user` on the fake, with notices collected and quick retries. */
function follow(fake: FakeTikTok, user: string, options: Partial<LiveProviderOptions> = {}) {
  const notices: LiveNotice[] = [];
  const waiters: { test: (notice: LiveNotice) => boolean; resolve: () => void }[] = [];
  const provider = new LiveProvider({
    transport: new DirectTransport({ user, tiktokUrl: fake.url }),
    livePollMs: 20,
    backoff: { initialMs: 10, maxMs: 50 },
    ...options,
    onNotice: (notice) => {
      notices.push(notice);
      for (const waiter of [...waiters]) if (waiter.test(notice)) waiter.resolve();
    },
  });
  /** Resolves at the `count`-th notice (from the start) that passes `test`. */
  const until = (test: (notice: LiveNotice) => boolean, count = 1) =>
    new Promise<void>((resolve) => {
      const check = () => notices.filter(test).length >= count;
      if (check()) return resolve();
      waiters.push({ test: () => check(), resolve });
    });
  return { provider, notices, until };
}

/** Distinct (type, msgId) pairs of a capture, as the pipeline deduplicates them. */
function distinctMessages(file: string): Set<string> {
  return new Set(captureEnvelopes(file).map(({ type, msgId }) => `${type}:${msgId}`));
}

/** The control message that ends a stream (action 3): the fake adds one when the capture is over. */
const isStreamEnd = (event: UnifiedEvent) => event.rawType === 'WebcastControlMessage' && /"action":3[,}]/.test(JSON.stringify(event.payload));

/**
 * The stored messages of a session as `type:msgId`, without lifecycle events and without the
 * fake's stream-end message (checked to be there, once, when the session ended with the stream).
 */
function storedMessages(events: UnifiedEvent[]): string[] {
  const ended = (events.at(-1)?.payload as { code?: string } | undefined)?.code === 'STREAM_END';
  expect(events.filter(isStreamEnd)).toHaveLength(ended ? 1 : 0);
  return events.filter((event) => !LIFECYCLE.has(event.eventType) && !isStreamEnd(event)).map((event) => `${event.rawType}:${event.seqNo}`);
}

describe.each(BACKEND_KINDS)('live ingest from the fake TikTok on the %s back-end', (kind) => {
  let backend: TestBackend;
  let pipeline: Pipeline;
  const fakes: FakeTikTok[] = [];

  async function startFake(file: string, options: Partial<FakeTikTokOptions> = {}): Promise<FakeTikTok> {
    const fake = await FakeTikTok.start({ messages: await loadCapture(capture(file)), ...options });
    fakes.push(fake);
    return fake;
  }

  /** Starts following; `stop` ends it and waits until everything published is stored. */
  function start(followed: ReturnType<typeof follow>): { stop(): Promise<void> } {
    const controller = new AbortController();
    const ingesting = pipeline.ingest(followed.provider, { type: 'live', provider: 'direct' }, { signal: controller.signal });
    return {
      async stop() {
        controller.abort();
        const result = await ingesting;
        await pipeline.waitForStored(result.lastId);
      },
    };
  }

  /** Follows until `done(followed)` resolves, then stops. */
  async function run(followed: ReturnType<typeof follow>, done: (f: ReturnType<typeof follow>) => Promise<void>): Promise<void> {
    const running = start(followed);
    await done(followed);
    await running.stop();
  }

  /** The production back-end runs the storage tests only; the provider's behaviour does not depend on it. */
  const itEmbedded = (name: string, test: () => Promise<void>) => {
    if (kind === 'embedded') it(name, test);
  };

  const events = (sessionId: string) => sessionEvents(pipeline.store, sessionId, { limit: 100_000 });

  beforeAll(async () => {
    backend = await createTestBackend(kind);
    pipeline = await Pipeline.open(loadConfig(backend.env), log);
    pipeline.startStages();
  });
  afterEach(async () => {
    for (const fake of fakes.splice(0)) await fake.close();
  });
  afterAll(async () => {
    await pipeline?.close();
    await backend?.dispose();
  });

  it('stores every distinct message of every shared capture exactly once, through the real connector', async () => {
    for (const file of kind === 'embedded' ? captureFiles() : ['giftsCollector.capture.ndjson']) {
      const fake = await startFake(file, { batchSize: 7 });
      const followed = follow(fake, 'creator');
      await run(followed, (f) => f.until((n) => n.kind === 'disconnected'));
      const [connected] = followed.notices.filter((n) => n.kind === 'connected');
      if (connected?.kind !== 'connected') throw new Error(`${file}: never connected`);
      const stored = await events(connected.sessionId);
      const messages = storedMessages(stored);
      expect({ file, count: messages.length }).toEqual({ file, count: facts[file]!.distinct });
      expect(new Set(messages)).toEqual(distinctMessages(file));
      // The session: opened by CONNECTED on the capture's room, closed by the stream end.
      expect(stored[0]).toMatchObject({ eventType: 'CONNECTED', streamId: fake.state().rooms[0]!.roomId, payload: { provider: 'direct' } });
      expect(stored.at(-1)).toMatchObject({ eventType: 'DISCONNECTED', payload: { willReconnect: false, code: 'STREAM_END' } });
      expect((await getSession(pipeline.store, connected.sessionId))?.endedAt).toBeInstanceOf(Date);
      // The fake saw heartbeats' counterpart: every message frame acknowledged by the connector.
      expect(fake.state().stats.acks).toBeGreaterThan(0);
    }
  });

  it('reconnects after an abrupt socket drop as a new session, and stores what comes after', async () => {
    const file = 'giftsCollector.capture.ndjson';
    const fake = await startFake(file, { dropAfter: 100, batchSize: 10 });
    const followed = follow(fake, 'dropper');
    await run(followed, (f) => f.until((n) => n.kind === 'disconnected' && !n.willReconnect));
    const sessions = followed.notices.filter((n): n is Extract<LiveNotice, { kind: 'connected' }> => n.kind === 'connected');
    expect(sessions.map((n) => n.reconnect)).toEqual([false, true]);
    expect(sessions[0]!.sessionId).not.toBe(sessions[1]!.sessionId);
    const first = await events(sessions[0]!.sessionId);
    const second = await events(sessions[1]!.sessionId);
    expect(first.at(-1)).toMatchObject({ eventType: 'DISCONNECTED', payload: { willReconnect: true, code: '1006' } });
    expect(second[0]).toMatchObject({ eventType: 'CONNECTED' });
    expect(storedMessages(second).length).toBeGreaterThan(0);
    // The fake cut the socket only after the connector acknowledged what it had been sent: nothing is lost.
    expect(new Set([...storedMessages(first), ...storedMessages(second)])).toEqual(distinctMessages(file));
    expect(followed.provider.status.reconnects).toBe(1);
  });

  itEmbedded('waits the retry-after of a sign-server 429 before trying again', async () => {
    const fake = await startFake('jw.capture.ndjson');
    fake.limitSignRequests(1, 7);
    const waits: number[] = [];
    const followed = follow(fake, 'limited', {
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await run(followed, (f) => f.until((n) => n.kind === 'connected'));
    const retry = followed.notices.find((n) => n.kind === 'retrying');
    expect(retry).toMatchObject({ code: 'SIGN_RATE_LIMITED', retryInMs: 7_000, attempt: 1 });
    expect(waits[0]).toBe(7_000);
    expect(fake.state().stats).toMatchObject({ signRequests: 2, rateLimited: 1 });
  });

  itEmbedded('polls while the user is offline, then connects when the stream goes live', async () => {
    const fake = await startFake('jw.capture.ndjson', { offlineForMs: 3_600_000 });
    const followed = follow(fake, 'sleepy');
    const running = start(followed);
    await followed.until((n) => n.kind === 'offline', 3);
    expect(followed.provider.status.state).toBe('offline');
    expect(followed.notices.some((n) => n.kind === 'connected')).toBe(false);
    fake.setLive('sleepy', true);
    await followed.until((n) => n.kind === 'disconnected');
    await running.stop();
    const connected = followed.notices.find((n) => n.kind === 'connected');
    if (connected?.kind !== 'connected') throw new Error('never connected');
    expect(storedMessages(await events(connected.sessionId))).toHaveLength(facts['jw.capture.ndjson']!.distinct);
  });

  itEmbedded('after a stream end: DISCONNECTED without reconnect, then waits for the next live as a new session', async () => {
    const fake = await startFake('jw.capture.ndjson');
    const followed = follow(fake, 'twice');
    const running = start(followed);
    await followed.until((n) => n.kind === 'disconnected');
    await followed.until((n) => n.kind === 'offline', 2);
    expect(followed.provider.status.state).toBe('offline');
    fake.setLive('twice', true);
    await followed.until((n) => n.kind === 'disconnected', 2);
    await running.stop();
    const ends = followed.notices.filter((n) => n.kind === 'disconnected');
    expect(ends.map((n) => n.kind === 'disconnected' && n.willReconnect)).toEqual([false, false]);
    const sessions = followed.notices.flatMap((n) => (n.kind === 'connected' ? [n.sessionId] : []));
    expect(sessions).toHaveLength(2);
    // The second live has new message ids, so nothing of it is mistaken for the first.
    const [first, second] = await Promise.all(sessions.map(async (id) => storedMessages(await events(id))));
    expect(second).toHaveLength(first!.length);
    expect(second!.some((id) => first!.includes(id))).toBe(false);
    const rows = await listSessions(pipeline.store, { streamId: fake.state().rooms[0]!.roomId, limit: 10 });
    expect(rows.filter((row) => sessions.includes(row.sessionId)).every((row) => row.endedAt !== null && row.provider === 'direct')).toBe(true);
  });

  itEmbedded('--record writes a capture v1 file whose messages equal the played capture', async () => {
    const file = 'dupa.capture.ndjson';
    const fake = await startFake(file, { batchSize: 13 });
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'ttlp-record-')), 'recorded.capture.ndjson');
    const recorder = await CaptureRecorder.open(out);
    const followed = follow(fake, 'recorded', { onMessage: (message) => recorder.record(message) });
    await run(followed, (f) => f.until((n) => n.kind === 'disconnected'));
    await recorder.close();
    const pairs = (lines: string[]) =>
      lines
        .map((line) => JSON.parse(line) as { ts: string; type: string; proto: string })
        .filter((line) => line.type !== 'WebcastControlMessage' || captureLines(file).some((original) => original.includes(line.proto)))
        .map((line) => `${line.type} ${line.proto}`)
        .sort();
    const recorded = readFileSync(out, 'utf8').trim().split('\n');
    expect(recorded.every((line) => /^\{"ts":"[0-9T:.-]+Z","type":"Webcast\w+","proto":"[A-Za-z0-9+/=]+"\}$/.test(line))).toBe(true);
    expect(pairs(recorded)).toEqual(pairs(captureLines(file)));
    expect(recorder.written).toBe(recorded.length);
  });

  itEmbedded('follows several users at once, each with its own stream and session', async () => {
    const fake = await startFake('jw.capture.ndjson');
    const a = follow(fake, 'first_creator');
    const b = follow(fake, 'second_creator');
    await Promise.all([a, b].map((f) => run(f, (g) => g.until((n) => n.kind === 'disconnected'))));
    const [sa, sb] = [a, b].map((f) => f.notices.find((n) => n.kind === 'connected')) as Extract<LiveNotice, { kind: 'connected' }>[];
    expect(sa!.roomId).not.toBe(sb!.roomId);
    for (const session of [sa!, sb!]) expect(storedMessages(await events(session.sessionId))).toHaveLength(facts['jw.capture.ndjson']!.distinct);
  });
});
