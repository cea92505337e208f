import { sql } from 'drizzle-orm';
import type { UnifiedEvent, UnifiedEventOf } from '@ttlp/sdk/contract';
import { makeEvent } from '@ttlp/sdk/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { queryRows, type Store } from '../store/database.ts';
import { insertEvents } from '../store/events.ts';
import { STORE_DRIVERS, useTestStore } from '../../test/support/database.ts';
import { captureEvents, captureFiles } from '../../test/support/captures.ts';
import { eraseUser } from './erasure.ts';
import { REMOVED_TEXT, pseudonymizeUsers } from './pseudonymize.ts';
import {
  TEST_SECRET,
  changesToOthers,
  nodeHmac,
  personIn,
  pickErasureTarget,
  plaintextOf,
  rowsGone,
  rowsMentioning,
  snapshot,
  type Person,
  type Snapshot,
} from '../../test/support/privacy.ts';

const NOW = new Date('2026-11-26T01:00:00.000Z');
const OTHER_ANCHOR = { userId: '7000000000000000777', uniqueId: 'other_anchor', displayName: 'Other Anchor' };
const GIFTER = { userId: '7000000000000000888', uniqueId: 'kind_gifter', displayName: 'Kind Gifter' };

type EventRow = { event_id: string; user_id: string; event_data: UnifiedEvent };

async function eventRow(store: Store, eventId: string): Promise<EventRow> {
  const [row] = await queryRows<EventRow>(store, sql`SELECT event_id, user_id, event_data FROM events WHERE event_id = ${eventId}`);
  if (!row) throw new Error(`no event ${eventId}`);
  return row;
}

async function kvValue(store: Store, key: string): Promise<unknown> {
  const [row] = await queryRows<{ value: unknown }>(store, sql`SELECT value FROM plugin_kv WHERE plugin_id = 'webhook' AND key = ${key}`);
  return row?.value;
}

/** Every event's JSON and every kv value, by key. */
async function documents(store: Store): Promise<Record<string, unknown>> {
  const rows = await queryRows<{ key: string; document: unknown }>(
    store,
    sql`SELECT 'event ' || event_id AS key, event_data AS document FROM events
        UNION ALL SELECT 'kv ' || plugin_id || ' ' || key, value FROM plugin_kv`,
  );
  return Object.fromEntries(rows.map((row) => [row.key, row.document]));
}

/** The driver's message under drizzle's "Failed query" wrapper: which constraint stopped the erasure. */
const failureCause = (error: unknown) => String((error as { cause?: { message?: string } } | undefined)?.cause?.message ?? error);

const withoutErasures = (tables: Snapshot) => Object.fromEntries(Object.entries(tables).filter(([table]) => table !== 'erasures'));

describe.each(STORE_DRIVERS)('eraseUser on %s', (driver) => {
  const opened = useTestStore(driver);
  let store: Store;
  let captured: UnifiedEvent[];
  let target: Person;
  let rawMentions: number;
  let pseudonym: string;
  let handMade: {
    chat: UnifiedEventOf<'CHAT'>;
    battle: UnifiedEventOf<'BATTLE'>;
    gift: UnifiedEventOf<'GIFT'>;
    pin: UnifiedEventOf<'RAW'>;
  };

  beforeAll(async () => {
    store = opened.store;
    captured = captureFiles().flatMap((file) => captureEvents(file));
    ({ person: target, rawMentions } = pickErasureTarget(captured));
    pseudonym = nodeHmac(target.userId);
    const handle = target.handles[0]!;
    const nickname = target.nicknames[0]!;
    const sessionId = '00000000-0000-4000-8000-00000000e1a5';
    const targetUser = { userId: target.userId, uniqueId: handle, displayName: nickname };
    handMade = {
      chat: makeEvent('CHAT', { message: 'text me on 555 0100' }, { sessionId, user: { ...targetUser, followRole: 1, isModerator: false } }),
      battle: makeEvent(
        'BATTLE',
        {
          battleId: '77',
          battleStatus: 'STARTED',
          participants: [
            { ...targetUser, score: 3 },
            { ...OTHER_ANCHOR, score: 9 },
          ],
        },
        { sessionId },
      ),
      gift: makeEvent(
        'GIFT',
        { giftId: 5655, giftName: 'Rose', giftCount: 1, coins: 1, receiverUserId: target.userId },
        { sessionId, user: GIFTER },
      ),
      pin: makeEvent(
        'RAW',
        {
          rawType: 'WebcastRoomPinMessage',
          data: {
            user: { id: OTHER_ANCHOR.userId, displayId: OTHER_ANCHOR.uniqueId, nickname: OTHER_ANCHOR.displayName },
            chatMessage: { user: { id: target.userId, displayId: handle, nickname, level: 4 }, content: 'meet me at the station' },
            pinnedBy: 'the host',
          },
        },
        { sessionId, user: OTHER_ANCHOR },
      ),
    };
    await insertEvents(store, captured);
    await insertEvents(store, Object.values(handMade));
    // The webhook plugin keeps deliveries in kv: the event as its JSON body, and dead letters whole.
    await queryRows(
      store,
      sql`INSERT INTO plugin_kv (plugin_id, key, value) VALUES
        ('webhook', 'pending:1', ${JSON.stringify({ eventId: handMade.chat.eventId, body: JSON.stringify(handMade.chat), attempts: 1, dueAt: 0 })}::jsonb),
        ('webhook', 'dlq:1', ${JSON.stringify({ event: handMade.chat, attempts: 4, lastError: 'HTTP 500', failedAt: NOW.toISOString() })}::jsonb),
        ('webhook', 'dlq:2', ${JSON.stringify({ event: handMade.gift, attempts: 4, lastError: 'HTTP 500', failedAt: NOW.toISOString() })}::jsonb),
        ('webhook', 'pending-ids', ${JSON.stringify([handMade.chat.eventId])}::jsonb)`,
    );
  });

  it('picks a capture user that RAW messages of others name', () => {
    expect(rawMentions).toBeGreaterThan(0);
    expect(target.handles.length).toBeGreaterThan(0);
  });

  it('erases the user from every table and leaves everyone else as they were', async () => {
    const before = await snapshot(store);
    const person = personIn([...captured, ...Object.values(handMade)], target.userId);
    const plaintext = plaintextOf(person);
    expect(rowsMentioning(withoutErasures(before), [target.userId]).length).toBeGreaterThan(0);
    const [userBefore] = await queryRows<{ unique_id: string; event_count: number }>(
      store,
      sql`SELECT unique_id, event_count::int FROM users WHERE tiktok_user_id = ${target.userId}`,
    );

    const documentsBefore = await documents(store);
    const summary = await eraseUser(store, TEST_SECRET, { userId: target.userId }, NOW);
    const after = await snapshot(store);
    const documentsAfter = await documents(store);
    expect(Object.keys(documentsAfter).sort()).toEqual(Object.keys(documentsBefore).sort());
    for (const [key, document] of Object.entries(documentsBefore))
      expect(changesToOthers(document, documentsAfter[key], person, REMOVED_TEXT), key).toEqual([]);

    expect(rowsMentioning(after, plaintext)).toEqual([]);

    // The summary counts exactly the rows that changed, table by table.
    const changed = Object.fromEntries(
      Object.keys(withoutErasures(before)).map((table) => [table, rowsGone(before[table]!, after[table]!).length]),
    );
    expect(summary).toEqual({
      rowsAffected: Object.values(changed).reduce((sum, n) => sum + n, 0),
      tablesTouched: Object.keys(changed)
        .filter((table) => changed[table]! > 0)
        .sort(),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      subjectHmac: pseudonym,
      alreadyErased: false,
    });
    expect(summary.tablesTouched).toEqual(['events', 'plugin_kv', 'users']);
    expect(changed.events).toBeGreaterThan(rawMentions);

    // Every row that did not name them is byte-identical.
    for (const [table, rows] of Object.entries(withoutErasures(before))) {
      const untouched = rows.filter((row) => rowsMentioning({ [table]: [row] }, plaintext).length === 0);
      expect(rowsGone(untouched, after[table]!), table).toEqual([]);
    }

    const [userAfter] = await queryRows<Record<string, unknown>>(
      store,
      sql`SELECT unique_id, display_name, avatar_url, event_count::int, pseudonymized_at::text = ${NOW.toISOString()}::timestamptz::text AS at_now
          FROM users WHERE tiktok_user_id = ${pseudonym}`,
    );
    expect(userAfter).toEqual({
      unique_id: nodeHmac(userBefore!.unique_id),
      display_name: null,
      avatar_url: null,
      event_count: userBefore!.event_count,
      at_now: true,
    });

    const [audit] = await queryRows<Record<string, unknown>>(
      store,
      sql`SELECT subject_hmac, rows_affected, tables_touched::text, requested_at = ${NOW.toISOString()}::timestamptz AS requested_now
          FROM erasures`,
    );
    expect(audit).toEqual({ subject_hmac: pseudonym, rows_affected: summary.rowsAffected, tables_touched: '{events,plugin_kv,users}', requested_now: true });
  });

  it('removes what they wrote and pseudonymizes them in typed events as in RAW ones', async () => {
    const chats = await queryRows<{ event_data: UnifiedEventOf<'CHAT'> }>(
      store,
      sql`SELECT event_data FROM events WHERE user_id = ${pseudonym} AND event_type = 'CHAT'`,
    );
    expect(chats.length).toBeGreaterThan(1);
    for (const { event_data: chat } of chats) {
      expect(chat.payload?.message).toBe(REMOVED_TEXT);
      expect(chat.user.userId).toBe(pseudonym);
      expect(chat.user.uniqueId).toMatch(/^[0-9a-f]{64}$/);
      expect(chat.user).not.toHaveProperty('displayName');
      expect(chat.user).not.toHaveProperty('avatarUrl');
    }
    const handle = target.handles[0]!;
    expect((await eventRow(store, handMade.chat.eventId)).event_data.user).toEqual({
      userId: pseudonym,
      uniqueId: nodeHmac(handle),
      followRole: 1,
      isModerator: false,
    });

    const battle = (await eventRow(store, handMade.battle.eventId)).event_data as UnifiedEventOf<'BATTLE'>;
    expect(battle.payload?.participants).toEqual([
      { userId: pseudonym, uniqueId: nodeHmac(handle), score: 3 },
      handMade.battle.payload!.participants![1],
    ]);
    expect({ ...battle, payload: { ...battle.payload, participants: [] } }).toEqual({
      ...handMade.battle,
      payload: { ...handMade.battle.payload, participants: [] },
    });

    const gift = await eventRow(store, handMade.gift.eventId);
    expect(gift.user_id).toBe(GIFTER.userId);
    expect(gift.event_data).toEqual({ ...handMade.gift, payload: { ...handMade.gift.payload, receiverUserId: pseudonym } });

    const pin = (await eventRow(store, handMade.pin.eventId)).event_data as UnifiedEventOf<'RAW'>;
    const original = handMade.pin.payload!.data as Record<string, unknown>;
    expect(pin.user).toEqual(handMade.pin.user);
    expect(pin.payload?.data).toEqual({
      user: original.user,
      chatMessage: { user: { id: pseudonym, displayId: nodeHmac(handle), level: 4 }, content: REMOVED_TEXT },
      pinnedBy: 'the host',
    });
  });

  it('reaches the copies plugins keep in kv', async () => {
    const pending = (await kvValue(store, 'pending:1')) as { body: string; attempts: number };
    expect(pending.attempts).toBe(1);
    expect(JSON.parse(pending.body)).toMatchObject({
      user: { userId: pseudonym, uniqueId: nodeHmac(target.handles[0]!), followRole: 1 },
      payload: { message: REMOVED_TEXT },
    });
    expect(await kvValue(store, 'dlq:1')).toMatchObject({ event: { user: { userId: pseudonym }, payload: { message: REMOVED_TEXT } }, lastError: 'HTTP 500' });
    expect(await kvValue(store, 'dlq:2')).toMatchObject({ event: { user: GIFTER, payload: { receiverUserId: pseudonym } } });
    expect(await kvValue(store, 'pending-ids')).toEqual([handMade.chat.eventId]);
  });

  it('answers a repeated request, by id or by handle, with alreadyErased and changes nothing but the audit log', async () => {
    const before = await snapshot(store);
    const byId = await eraseUser(store, TEST_SECRET, { userId: target.userId }, NOW);
    const byHandle = await eraseUser(store, TEST_SECRET, { uniqueId: `@${target.handles[0]!}` }, NOW);
    expect(byId).toMatchObject({ rowsAffected: 0, tablesTouched: [], alreadyErased: true, subjectHmac: pseudonym });
    expect(byHandle).toMatchObject({ rowsAffected: 0, tablesTouched: [], alreadyErased: true, subjectHmac: nodeHmac(target.handles[0]!) });
    const direct = await store.db.transaction((tx) =>
      pseudonymizeUsers(tx, TEST_SECRET, [{ tiktokUserId: target.userId }, { tiktokUserId: pseudonym }], { now: NOW }),
    );
    expect(direct).toEqual({ rowsAffected: 0, tablesTouched: [] });

    const after = await snapshot(store);
    expect(withoutErasures(after)).toEqual(withoutErasures(before));
    expect(after.erasures).toHaveLength(before.erasures!.length + 2);
  });

  it('merges a user seen again after the erasure into the pseudonymized row', async () => {
    const [earlier] = await queryRows<{ event_count: number }>(store, sql`SELECT event_count::int FROM users WHERE tiktok_user_id = ${pseudonym}`);
    const again = makeEvent('CHAT', { message: 'I am back' }, { user: { userId: target.userId, uniqueId: target.handles[0]!, displayName: 'Back Again' } });
    await insertEvents(store, [again]);

    const summary = await eraseUser(store, TEST_SECRET, { userId: target.userId }, NOW);
    expect(summary).toMatchObject({ rowsAffected: 3, tablesTouched: ['events', 'users'], alreadyErased: false });
    const rows = await queryRows<{ tiktok_user_id: string; event_count: number; display_name: string | null }>(
      store,
      sql`SELECT tiktok_user_id, event_count::int, display_name FROM users WHERE tiktok_user_id IN (${target.userId}, ${pseudonym})`,
    );
    expect(rows).toEqual([{ tiktok_user_id: pseudonym, event_count: earlier!.event_count + 1, display_name: null }]);
    expect((await eventRow(store, again.eventId)).event_data).toMatchObject({ user: { userId: pseudonym }, payload: { message: REMOVED_TEXT } });
  });
});

describe.each(STORE_DRIVERS)('eraseUser subjects and failures on %s', (driver) => {
  const opened = useTestStore(driver);
  let store: Store;

  const viewer = (userId: string, uniqueId: string) => ({ userId, uniqueId, displayName: `Viewer ${uniqueId}` });

  beforeAll(async () => {
    store = opened.store;
    await insertEvents(store, [
      makeEvent('CHAT', { message: 'hi' }, { user: viewer('7100000000000000001', 'Mixed.Case_Handle') }),
      makeEvent('CHAT', { message: 'hi' }, { user: viewer('7100000000000000002', 'shared_handle') }),
      makeEvent('CHAT', { message: 'hi' }, { user: viewer('7100000000000000003', 'shared_handle') }),
      makeEvent('CHAT', { message: 'hi' }, { user: viewer('7100000000000000004', 'rollback_one') }),
      makeEvent('LIKE', { likeCount: 3, totalLikeCount: 9 }, { user: viewer('7100000000000000004', 'rollback_one') }),
      makeEvent('BATTLE', { participants: [{ userId: '7100000000000000005', uniqueId: 'only_in_battles', score: 1 }] }),
    ]);
  });

  it('finds a user by handle, @ and case aside', async () => {
    const summary = await eraseUser(store, TEST_SECRET, { uniqueId: '@mixed.case_handle' }, NOW);
    expect(summary).toMatchObject({ alreadyErased: false, rowsAffected: 2, subjectHmac: nodeHmac('mixed.case_handle') });
    expect(await queryRows(store, sql`SELECT 1 FROM users WHERE tiktok_user_id = ${nodeHmac('7100000000000000001')}`)).toHaveLength(1);
    expect(await eraseUser(store, TEST_SECRET, { uniqueId: 'Mixed.Case_Handle' }, NOW)).toMatchObject({ alreadyErased: true });
  });

  it('erases a battle participant that has no users row', async () => {
    const summary = await eraseUser(store, TEST_SECRET, { uniqueId: 'only_in_battles' }, NOW);
    expect(summary).toMatchObject({ alreadyErased: false, rowsAffected: 1, tablesTouched: ['events'] });
    expect(rowsMentioning(await snapshot(store), ['7100000000000000005', 'only_in_battles'])).toEqual([]);
    expect(await eraseUser(store, TEST_SECRET, { uniqueId: 'only_in_battles' }, NOW)).toMatchObject({ alreadyErased: true });
    expect(await eraseUser(store, TEST_SECRET, { userId: '7100000000000000005' }, NOW)).toMatchObject({ alreadyErased: true });
  });

  it('refuses unknown, ambiguous and malformed subjects, writing nothing', async () => {
    const before = await snapshot(store);
    await expect(eraseUser(store, TEST_SECRET, { userId: '7199999999999999999' })).rejects.toMatchObject({ code: 'ERASURE_SUBJECT_NOT_FOUND' });
    await expect(eraseUser(store, TEST_SECRET, { uniqueId: '@nobody_here' })).rejects.toMatchObject({ code: 'ERASURE_SUBJECT_NOT_FOUND' });
    await expect(eraseUser(store, TEST_SECRET, { uniqueId: 'shared_handle' })).rejects.toMatchObject({ code: 'ERASURE_SUBJECT_AMBIGUOUS' });
    for (const subject of [{}, { userId: ' ' }, { uniqueId: '@' }, { userId: '1', uniqueId: 'x' }, { userId: '0' }, { userId: 'f'.repeat(64) }])
      await expect(eraseUser(store, TEST_SECRET, subject)).rejects.toMatchObject({ code: 'ERASURE_SUBJECT_INVALID' });
    const failure = await eraseUser(store, TEST_SECRET, { userId: '7199999999999999999' }).catch((error: Error) => error);
    expect(String(failure)).not.toContain('7199999999999999999');
    expect(await snapshot(store)).toEqual(before);
  });

  it('rolls everything back when the audit row cannot be written', async () => {
    const before = await snapshot(store);
    await queryRows(store, sql`ALTER TABLE erasures ADD CONSTRAINT erasures_fail_for_test CHECK (rows_affected < 0) NOT VALID`);
    try {
      expect(failureCause(await eraseUser(store, TEST_SECRET, { userId: '7100000000000000004' }, NOW).catch((error: unknown) => error))).toContain(
        'erasures_fail_for_test',
      );
    } finally {
      await queryRows(store, sql`ALTER TABLE erasures DROP CONSTRAINT erasures_fail_for_test`);
    }
    expect(await snapshot(store)).toEqual(before);
  });

  it('rolls everything back when a step fails after users were rewritten', async () => {
    const before = await snapshot(store);
    await queryRows(store, sql`ALTER TABLE events ADD CONSTRAINT events_fail_for_test CHECK (user_id !~ '^[0-9a-f]{64}$') NOT VALID`);
    try {
      expect(failureCause(await eraseUser(store, TEST_SECRET, { userId: '7100000000000000004' }, NOW).catch((error: unknown) => error))).toContain(
        'events_fail_for_test',
      );
    } finally {
      await queryRows(store, sql`ALTER TABLE events DROP CONSTRAINT events_fail_for_test`);
    }
    expect(await snapshot(store)).toEqual(before);
    expect(await eraseUser(store, TEST_SECRET, { userId: '7100000000000000004' }, NOW)).toMatchObject({ rowsAffected: 3 });
  });
});
