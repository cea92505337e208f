import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { makeEvent } from '@ttlp/sdk/testing';
import { sql, type SQL } from 'drizzle-orm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { queryRows, type Store } from '../store/database.ts';
import { insertEvents } from '../store/events.ts';
import { startSession } from '../store/sessions.ts';
import { STORE_DRIVERS, useTestStore } from '../../test/support/database.ts';
import { waitFor } from '../../test/support/patience.ts';
import {
  DEFAULT_RETENTION,
  PSEUDONYMIZE_BATCH_SIZE,
  RetentionSchedule,
  prune,
  type PruneSummary,
  type PseudonymizeUsers,
  type RetentionPolicy,
} from './retention.ts';
import { pseudonymizerFor } from './pseudonymize.ts';
import { TEST_SECRET, nodeHmac } from '../../test/support/privacy.ts';

const DAY_MS = 86_400_000;
/** Later than any real clock the tests run on, so rows stamped with the database's now() count as old. */
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const day = (n: number) => new Date(T0 + n * DAY_MS);

const POLICY: RetentionPolicy = { eventRetentionDays: 90, archiveRetentionDays: 30, actionsLogRetentionDays: 30, userRetentionDays: 365 };

const NOTHING = {
  eventsArchived: 0,
  eventsDeleted: 0,
  actionsDeleted: 0,
  sessionsDeleted: 0,
  streamsDeleted: 0,
  usersDue: 0,
  usersPseudonymized: 0,
  pseudonymizedRows: 0,
};

/** Counts only, for exact comparisons. */
const counts = ({ dryRun: _dryRun, timestamp: _timestamp, cutoffs: _cutoffs, ...rest }: PruneSummary) => rest;

/** Stands in for the erasure code's pseudonymization: marks the users, as the real one does last. */
function markingPseudonymizer(calls: Array<ReadonlyArray<{ tiktokUserId: string }>> = []): PseudonymizeUsers {
  return async (tx, due, { now }) => {
    calls.push(due);
    const ids = JSON.stringify(due.map((user) => user.tiktokUserId));
    const marked = (await tx.execute(sql`
      UPDATE users SET pseudonymized_at = ${now.toISOString()}::timestamptz
      WHERE tiktok_user_id IN (SELECT jsonb_array_elements_text(${ids}::jsonb))
    `)) as { affectedRows?: number; rowCount?: number | null };
    return { rowsAffected: Number(marked.affectedRows ?? marked.rowCount ?? 0) };
  };
}

describe.each(STORE_DRIVERS)('retention on %s', (driver) => {
  const opened = useTestStore(driver);
  let store: Store;

  beforeAll(() => {
    store = opened.store;
  });

  beforeEach(async () => {
    await store.db.execute(sql`TRUNCATE events, sessions, streams, users, actions_log, plugins`);
  });

  /** A session of `streamId` with one chat event per entry of `days`, by `userId`. */
  async function sessionWithEvents(streamId: string, days: number[], userId = '6800000000000000001'): Promise<string> {
    const sessionId = randomUUID();
    await startSession(store, { sessionId, streamId, type: 'live', provider: 'demo' });
    await insertEvents(
      store,
      days.map((n) => makeEvent('CHAT', { message: `day ${n}` }, { sessionId, streamId, timestamp: day(n).toISOString(), user: { userId } })),
    );
    return sessionId;
  }

  const scalar = async (query: SQL) => Number((await queryRows<{ n: number }>(store, query))[0]?.n);
  const ids = async (query: SQL) => (await queryRows<{ id: string }>(store, query)).map((row) => row.id).sort();

  async function addActions(createdDays: number[]): Promise<void> {
    for (const n of createdDays)
      await store.db.execute(
        sql`INSERT INTO actions_log (plugin_id, action, status, created_at) VALUES ('alerts', 'overlay.send', 'ok', ${day(n).toISOString()}::timestamptz)`,
      );
  }

  async function addPlugin(pluginId: string, config: Record<string, unknown>): Promise<void> {
    await store.db.execute(sql`INSERT INTO plugins (plugin_id, config) VALUES (${pluginId}, ${JSON.stringify(config)}::jsonb)`);
  }

  /** Every row retention may touch, to show a dry run left them as they were. */
  const snapshot = async () => ({
    events: await queryRows(store, sql`SELECT event_id, archived_at::text, user_id FROM events ORDER BY event_id`),
    sessions: await ids(sql`SELECT session_id::text AS id FROM sessions`),
    streams: await ids(sql`SELECT stream_id AS id FROM streams`),
    users: await queryRows(store, sql`SELECT tiktok_user_id, pseudonymized_at::text FROM users ORDER BY tiktok_user_id`),
    actions: await ids(sql`SELECT id::text AS id FROM actions_log`),
  });

  it('archives events past the event retention and deletes them after the archive retention', async () => {
    const sessionId = await sessionWithEvents('room-a', [0, 0, 0, 60, 60]);

    const first = await prune(store, POLICY, { now: day(91) });
    expect(counts(first)).toEqual({ ...NOTHING, eventsArchived: 3 });
    expect(first).toMatchObject({ dryRun: false, timestamp: day(91).toISOString() });
    expect(first.cutoffs).toEqual({
      archiveEventsBefore: day(1).toISOString(),
      deleteArchivedBefore: day(61).toISOString(),
      deleteActionsBefore: day(61).toISOString(),
      pseudonymizeUsersSeenBefore: day(91 - 365).toISOString(),
    });
    const archived = await queryRows<{ archived_at: Date | string | null; n: number }>(
      store,
      sql`SELECT archived_at, count(*)::int AS n FROM events GROUP BY archived_at ORDER BY archived_at NULLS LAST`,
    );
    expect(archived.map((row) => [row.archived_at === null ? null : new Date(row.archived_at).toISOString(), row.n])).toEqual([
      [day(91).toISOString(), 3],
      [null, 2],
    ]);

    // Archived for 29 days: kept; the day-60 events are still within their 90 days.
    expect(counts(await prune(store, POLICY, { now: day(120) }))).toEqual(NOTHING);
    expect(counts(await prune(store, POLICY, { now: day(122) }))).toEqual({ ...NOTHING, eventsDeleted: 3 });
    expect(await scalar(sql`SELECT count(*)::int AS n FROM events WHERE archived_at IS NULL`)).toBe(2);
    // The session still has events, so it stays.
    expect(await ids(sql`SELECT session_id::text AS id FROM sessions`)).toEqual([sessionId]);

    expect(counts(await prune(store, POLICY, { now: day(151) }))).toEqual({ ...NOTHING, eventsArchived: 2 });
    expect(counts(await prune(store, POLICY, { now: day(182) }))).toEqual({ ...NOTHING, eventsDeleted: 2, sessionsDeleted: 1, streamsDeleted: 1 });
    expect(await snapshot()).toMatchObject({ events: [], sessions: [], streams: [] });
  });

  it('deletes actions log rows past their retention', async () => {
    await addActions([0, 29, 30, 31, 45]);
    const summary = await prune(store, POLICY, { now: day(60) });
    expect(counts(summary)).toEqual({ ...NOTHING, actionsDeleted: 2 });
    const left = await queryRows<{ created_at: Date | string }>(store, sql`SELECT created_at FROM actions_log ORDER BY created_at`);
    expect(left.map((row) => new Date(row.created_at).toISOString())).toEqual([day(30), day(31), day(45)].map((date) => date.toISOString()));
  });

  it('deletes sessions and streams left empty, but keeps those a plugin config names and those too young', async () => {
    const [a, b] = [await sessionWithEvents('room-1', [0]), await sessionWithEvents('room-1', [0])];
    const named = randomUUID();
    await startSession(store, { sessionId: named, streamId: 'room-1', type: 'replay', provider: 'capture' });
    const recent = await sessionWithEvents('room-1', [100]);
    const young = randomUUID();
    await startSession(store, { sessionId: young, streamId: 'room-1', type: 'live', provider: 'demo' });
    await store.db.execute(sql`UPDATE sessions SET started_at = ${day(100).toISOString()}::timestamptz WHERE session_id = ${young}::uuid`);
    const lonely = await sessionWithEvents('room-2', [0]);
    const inNamedStream = await sessionWithEvents('7666766752591078691', [0]);
    // Names in any shape: part of a longer string in another case, and an object key.
    await addPlugin('rules', { rules: [{ when: { session: `replay:${named.toUpperCase()}` }, then: 'alert' }] });
    await addPlugin('goals', { goals: { '7666766752591078691': { target: 100 } } });

    expect(counts(await prune(store, POLICY, { now: day(91) }))).toEqual({ ...NOTHING, eventsArchived: 4 });
    expect(counts(await prune(store, POLICY, { now: day(122) }))).toEqual({ ...NOTHING, eventsDeleted: 4, sessionsDeleted: 4, streamsDeleted: 1 });

    expect(await ids(sql`SELECT session_id::text AS id FROM sessions`)).toEqual([named, recent, young].sort());
    expect(await ids(sql`SELECT stream_id AS id FROM streams`)).toEqual(['7666766752591078691', 'room-1']);
    for (const gone of [a, b, lonely, inNamedStream]) expect(await scalar(sql`SELECT count(*)::int AS n FROM sessions WHERE session_id = ${gone}::uuid`)).toBe(0);

    // Once no config names them, they go like any other.
    await store.db.execute(sql`TRUNCATE plugins`);
    expect(counts(await prune(store, POLICY, { now: day(123) }))).toEqual({ ...NOTHING, sessionsDeleted: 1, streamsDeleted: 1 });
    expect(await ids(sql`SELECT stream_id AS id FROM streams`)).toEqual(['room-1']);
  });

  it('hands users inactive past their retention to pseudonymize, in the run, once', async () => {
    await sessionWithEvents('room-u', [0], '6800000000000000011');
    await sessionWithEvents('room-u', [0, 200], '6800000000000000012');
    await sessionWithEvents('room-u', [10], '6800000000000000013');

    const counted = await prune(store, POLICY, { now: day(366) });
    expect(counted).toMatchObject({ usersDue: 1, usersPseudonymized: 0, pseudonymizedRows: 0 });
    expect(await scalar(sql`SELECT count(*)::int AS n FROM users WHERE pseudonymized_at IS NOT NULL`)).toBe(0);

    const calls: Array<ReadonlyArray<{ tiktokUserId: string }>> = [];
    const done = await prune(store, POLICY, { now: day(380), pseudonymize: markingPseudonymizer(calls) });
    expect(done).toMatchObject({ usersDue: 2, usersPseudonymized: 2, pseudonymizedRows: 2 });
    expect(calls).toEqual([[{ tiktokUserId: '6800000000000000011' }, { tiktokUserId: '6800000000000000013' }]]);
    const marked = await queryRows<{ tiktok_user_id: string; pseudonymized_at: Date | string }>(
      store,
      sql`SELECT tiktok_user_id, pseudonymized_at FROM users WHERE pseudonymized_at IS NOT NULL ORDER BY tiktok_user_id`,
    );
    expect(marked.map((row) => [row.tiktok_user_id, new Date(row.pseudonymized_at).toISOString()])).toEqual([
      ['6800000000000000011', day(380).toISOString()],
      ['6800000000000000013', day(380).toISOString()],
    ]);

    expect(await prune(store, POLICY, { now: day(381), pseudonymize: markingPseudonymizer(calls) })).toMatchObject({ usersDue: 0, usersPseudonymized: 0 });
    expect(calls).toHaveLength(1);
  });

  it('pseudonymizes with the erasure code, bound to the secret, at the run\'s time', async () => {
    const sessionId = await sessionWithEvents('room-p', [0, 5], '6800000000000000041');
    await sessionWithEvents('room-p', [300], '6800000000000000042');
    const pseudonymize: PseudonymizeUsers = pseudonymizerFor(TEST_SECRET);

    const dry = await prune(store, POLICY, { now: day(380), dryRun: true, pseudonymize });
    expect(await scalar(sql`SELECT count(*)::int AS n FROM users WHERE pseudonymized_at IS NOT NULL`)).toBe(0);
    const real = await prune(store, POLICY, { now: day(380), pseudonymize });
    expect(real).toEqual({ ...dry, dryRun: false });
    expect(real).toMatchObject({ usersDue: 1, usersPseudonymized: 1 });
    expect(real.pseudonymizedRows).toBeGreaterThanOrEqual(3);

    const pseudonym = nodeHmac('6800000000000000041');
    const people = await queryRows<{ tiktok_user_id: string; display_name: string | null; pseudonymized_at: Date | string | null }>(
      store,
      sql`SELECT tiktok_user_id, display_name, pseudonymized_at FROM users`,
    );
    const byId = new Map(people.map((row) => [row.tiktok_user_id, row]));
    expect(byId.size).toBe(2);
    expect(byId.get('6800000000000000042')).toMatchObject({ display_name: 'Viewer 0042', pseudonymized_at: null });
    expect(byId.get(pseudonym)).toMatchObject({ display_name: null });
    expect(new Date(byId.get(pseudonym)?.pseudonymized_at ?? 0).toISOString()).toBe(day(380).toISOString());
    expect(await ids(sql`SELECT DISTINCT user_id AS id FROM events WHERE session_id = ${sessionId}::uuid`)).toEqual([pseudonym]);
  });

  it('pseudonymizes in batches however many users fall due', async () => {
    const total = PSEUDONYMIZE_BATCH_SIZE * 2 + 7;
    await store.db.execute(sql`
      INSERT INTO users (tiktok_user_id, unique_id, first_seen_at, last_seen_at)
      SELECT 'u' || lpad(n::text, 5, '0'), 'viewer' || n, ${day(0).toISOString()}::timestamptz, ${day(0).toISOString()}::timestamptz
      FROM generate_series(1, ${total}::int) AS n
    `);
    const calls: Array<ReadonlyArray<{ tiktokUserId: string }>> = [];
    const summary = await prune(store, POLICY, { now: day(400), pseudonymize: markingPseudonymizer(calls) });
    expect(summary).toMatchObject({ usersDue: total, usersPseudonymized: total, pseudonymizedRows: total });
    expect(calls.map((batch) => batch.length)).toEqual([PSEUDONYMIZE_BATCH_SIZE, PSEUDONYMIZE_BATCH_SIZE, 7]);
    expect(new Set(calls.flat().map((user) => user.tiktokUserId)).size).toBe(total);
  });

  it('applies a run whole or not at all: a failing pseudonymize leaves everything as it was', async () => {
    await sessionWithEvents('room-f', [0, 0]);
    await addActions([0]);
    const before = await snapshot();
    const failing: PseudonymizeUsers = async () => {
      throw new Error('secret unavailable');
    };
    await expect(prune(store, POLICY, { now: day(400), pseudonymize: failing })).rejects.toThrow('secret unavailable');
    expect(await snapshot()).toEqual(before);
  });

  it('counts in a dry run exactly what the real run then does, changing nothing', async () => {
    await sessionWithEvents('room-d', [0, 0, 0], '6800000000000000021');
    await sessionWithEvents('room-d', [200], '6800000000000000022');
    await sessionWithEvents('room-e', [0], '6800000000000000023');
    const kept = randomUUID();
    await startSession(store, { sessionId: kept, streamId: 'room-k', type: 'live', provider: 'demo' });
    await addPlugin('goals', { sessionId: kept });
    await prune(store, POLICY, { now: day(91) });
    await addActions([0, 5, 200]);

    const now = day(470);
    const before = await snapshot();
    const dryCalls: Array<ReadonlyArray<{ tiktokUserId: string }>> = [];
    const dry = await prune(store, POLICY, { now, dryRun: true, pseudonymize: markingPseudonymizer(dryCalls) });
    expect(await snapshot()).toEqual(before);
    expect(dry.dryRun).toBe(true);
    expect(counts(dry)).toEqual({
      eventsArchived: 1,
      eventsDeleted: 4,
      actionsDeleted: 3,
      sessionsDeleted: 2,
      streamsDeleted: 1,
      usersDue: 2,
      usersPseudonymized: 2,
      pseudonymizedRows: 2,
    });

    const real = await prune(store, POLICY, { now, pseudonymize: markingPseudonymizer() });
    expect(real).toEqual({ ...dry, dryRun: false });
    expect(await snapshot()).not.toEqual(before);
    expect(await ids(sql`SELECT session_id::text AS id FROM sessions`)).toContain(kept);
  });

  it('runs on a schedule, logs each run and survives a failing one', async () => {
    await sessionWithEvents('room-s', [0, 0], '6800000000000000031');
    const lines: Array<{ level: number; msg: string; retention?: PruneSummary; err?: string }> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
        done();
      },
    });
    let attempts = 0;
    const marking = markingPseudonymizer();
    const flaky: PseudonymizeUsers = async (tx, due, context) => {
      attempts += 1;
      if (attempts === 1) throw new Error('database went away');
      return marking(tx, due, context);
    };
    const schedule = new RetentionSchedule();
    schedule.start({
      store,
      policy: DEFAULT_RETENTION,
      log: createLogger({ level: 'info', destination }),
      pseudonymize: flaky,
      firstRunDelayMs: 5,
      intervalMs: 20,
      clock: () => day(400),
    });
    expect(() => schedule.start({ store, policy: POLICY, log: createLogger({ level: 'silent' }) })).toThrow('starts once');

    await waitFor(() => lines.some((line) => line.retention), 'a run that succeeded');
    await schedule.stop();
    const linesAtStop = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(lines).toHaveLength(linesAtStop);

    const failed = lines.findIndex((line) => line.level === 50);
    const succeeded = lines.findIndex((line) => line.retention);
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(failed).toBeLessThan(succeeded);
    expect(lines[failed]).toMatchObject({ err: 'database went away' });
    expect(lines[failed]?.msg).toContain('retention run failed and changed nothing');
    // The failed run was rolled back, so the next one still finds all of it to do.
    expect(lines[succeeded]).toMatchObject({ level: 30, retention: { dryRun: false, eventsArchived: 2, usersDue: 1, usersPseudonymized: 1 } });
    expect(lines[succeeded]?.msg).toContain('2 events archived');
    expect(attempts).toBe(2);
  });
});

describe('retention policy and schedule settings', () => {
  it('defaults to 90 + 30 days for events, 30 for the actions log and a year for users', () => {
    expect(DEFAULT_RETENTION).toEqual({ eventRetentionDays: 90, archiveRetentionDays: 30, actionsLogRetentionDays: 30, userRetentionDays: 365 });
  });

  it('refuses days that are negative or not numbers before touching the store', async () => {
    const store = {} as Store;
    await expect(prune(store, { ...POLICY, eventRetentionDays: -1 }, { now: day(0) })).rejects.toThrow('eventRetentionDays');
    await expect(prune(store, { ...POLICY, userRetentionDays: Number.NaN }, { now: day(0) })).rejects.toThrow('userRetentionDays');
    expect(() => new RetentionSchedule().start({ store, policy: POLICY, log: createLogger({ level: 'silent' }), intervalMs: 2 ** 31 })).toThrow('intervalMs');
  });

  it('stops before its first run without running', async () => {
    let ran = false;
    const store = {
      db: {
        transaction: async () => {
          ran = true;
        },
      },
    } as unknown as Store;
    const schedule = new RetentionSchedule();
    schedule.start({ store, policy: POLICY, log: createLogger({ level: 'silent' }), firstRunDelayMs: 20 });
    await schedule.stop();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(ran).toBe(false);
  });
});
