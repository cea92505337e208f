import { sql } from 'drizzle-orm';
import type { UnifiedEventOf } from '@ttlp/sdk/contract';
import { makeEvent } from '@ttlp/sdk/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { queryRows, type Store } from '../store/database.ts';
import { insertEvents } from '../store/events.ts';
import { STORE_DRIVERS, useTestStore } from '../../test/support/database.ts';
import { REMOVED_TEXT, SUBSTRING_SEARCH_MAX, pseudonymOf, pseudonymizeUsers, pseudonymizerFor, pseudonymsOf } from './pseudonymize.ts';
import { TEST_SECRET, nodeHmac, rowsGone, rowsMentioning, snapshot } from '../../test/support/privacy.ts';

const NOW = new Date('2026-11-26T02:00:00.000Z');
const ANCHOR = { userId: '7200000000000000001', uniqueId: 'anchor_one', displayName: 'Anchor One', avatarUrl: 'https://example.invalid/a1.webp' };
const FAN = { userId: '7200000000000000002', uniqueId: 'fan_two', displayName: 'Fan Two', avatarUrl: 'https://example.invalid/f2.webp' };
const BYSTANDER = { userId: '7200000000000000003', uniqueId: 'bystander', displayName: 'By Stander' };

describe.each(STORE_DRIVERS)('pseudonymizeUsers on %s', (driver) => {
  const opened = useTestStore(driver);
  let store: Store;

  beforeAll(() => {
    store = opened.store;
  });

  it('computes the same pseudonyms as HMAC-SHA256 in Node, so both back-ends agree', async () => {
    const values = ['6812345678901234567', 'viewer_üñí.cødé', 'Émoji 🎉 name', 'x'.repeat(300)];
    const pseudonyms = await store.db.transaction((tx) => pseudonymsOf(tx, TEST_SECRET, values));
    expect(Object.fromEntries(pseudonyms)).toEqual(Object.fromEntries(values.map((value) => [value, nodeHmac(value)])));
    const other = 'another-secret-of-at-least-32-bytes!!';
    expect(await store.db.transaction((tx) => pseudonymOf(tx, other, values[0]!))).toBe(nodeHmac(values[0]!, other));
  });

  it('pseudonymizes several users in one call, each in the events of the other, as retention does', async () => {
    const gift = makeEvent('GIFT', { giftId: 1, giftName: 'Rose', giftCount: 1, coins: 1, receiverUserId: ANCHOR.userId }, { user: FAN });
    const battle = makeEvent('BATTLE', {
      participants: [
        { userId: ANCHOR.userId, uniqueId: ANCHOR.uniqueId, displayName: ANCHOR.displayName, score: 10 },
        { userId: BYSTANDER.userId, uniqueId: BYSTANDER.uniqueId, displayName: BYSTANDER.displayName, score: 2 },
        { userId: FAN.userId, score: 1 },
      ],
    });
    const chat = makeEvent('CHAT', { message: 'gg', emotes: [{ emoteId: 'e1', position: 0 }] }, { user: ANCHOR });
    const bystanderChat = makeEvent('CHAT', { message: 'nice' }, { user: BYSTANDER });
    await insertEvents(store, [gift, battle, chat, bystanderChat]);
    await queryRows(store, sql`INSERT INTO streams (stream_id, unique_id) VALUES ('7299999999999999999', ${ANCHOR.uniqueId})`);
    const before = await snapshot(store);

    const summary = await store.db.transaction((tx) =>
      pseudonymizerFor(TEST_SECRET)(tx, [{ tiktokUserId: ANCHOR.userId }, { tiktokUserId: FAN.userId }, { tiktokUserId: ANCHOR.userId }], {
        now: NOW,
        removeContent: false,
      }),
    );

    const after = await snapshot(store);
    expect(summary).toEqual({ rowsAffected: 2 + 3 + 1, tablesTouched: ['events', 'streams', 'users'] });
    expect(rowsGone(before.events!, after.events!)).toHaveLength(3);
    expect(rowsMentioning(after, [ANCHOR.userId, ANCHOR.uniqueId, ANCHOR.displayName, ANCHOR.avatarUrl, FAN.userId, FAN.uniqueId, FAN.displayName])).toEqual([]);
    expect(rowsMentioning(after, [BYSTANDER.userId])).toHaveLength(rowsMentioning(before, [BYSTANDER.userId]).length);

    const [storedBattle] = await queryRows<{ event_data: UnifiedEventOf<'BATTLE'> }>(
      store,
      sql`SELECT event_data FROM events WHERE event_id = ${battle.eventId}`,
    );
    expect(storedBattle?.event_data.payload?.participants).toEqual([
      { userId: nodeHmac(ANCHOR.userId), uniqueId: nodeHmac(ANCHOR.uniqueId), score: 10 },
      battle.payload!.participants![1],
      { userId: nodeHmac(FAN.userId), score: 1 },
    ]);
    const [storedChat] = await queryRows<{ event_data: UnifiedEventOf<'CHAT'> }>(store, sql`SELECT event_data FROM events WHERE event_id = ${chat.eventId}`);
    expect(storedChat?.event_data.payload).toEqual({ message: 'gg', emotes: [{ emoteId: 'e1', position: 0 }] });
    const [storedGift] = await queryRows<{ user_id: string; event_data: UnifiedEventOf<'GIFT'> }>(
      store,
      sql`SELECT user_id, event_data FROM events WHERE event_id = ${gift.eventId}`,
    );
    expect(storedGift?.user_id).toBe(nodeHmac(FAN.userId));
    expect(storedGift?.event_data.payload?.receiverUserId).toBe(nodeHmac(ANCHOR.userId));
    const [stream] = await queryRows<{ unique_id: string }>(store, sql`SELECT unique_id FROM streams WHERE stream_id = '7299999999999999999'`);
    expect(stream?.unique_id).toBe(nodeHmac(ANCHOR.uniqueId));

    const again = await store.db.transaction((tx) =>
      pseudonymizeUsers(tx, TEST_SECRET, [{ tiktokUserId: ANCHOR.userId }, { tiktokUserId: FAN.userId }], { now: NOW }),
    );
    expect(again).toEqual({ rowsAffected: 0, tablesTouched: [] });
    expect(await snapshot(store)).toEqual(after);
  });

  it('finds RAW messages that name someone only by nickname, for one user and for a large batch', async () => {
    const batch = Array.from({ length: SUBSTRING_SEARCH_MAX + 6 }, (_, i) => ({
      userId: String(7_300_000_000_000_000_000n + BigInt(i)),
      uniqueId: `batch_${i}`,
      displayName: `Batch Person ${String(i).padStart(3, '0')}`,
    }));
    const last = batch.at(-1)!;
    const announcement = makeEvent('RAW', { rawType: 'WebcastRankTextMessage', data: { describe: 'Batch Person 000 is the MVP' } }, { user: BYSTANDER });
    const pieces = makeEvent(
      'RAW',
      { rawType: 'WebcastRankTextMessage', data: { pieces: [{ stringValue: last.displayName }, { stringValue: 'Batch Person 999' }] } },
      { user: BYSTANDER },
    );
    await insertEvents(store, [...batch.map((user) => makeEvent('CHAT', { message: 'hi' }, { user })), announcement, pieces]);
    const rawData = async (eventId: string) =>
      (await queryRows<{ data: unknown }>(store, sql`SELECT event_data->'payload'->'data' AS data FROM events WHERE event_id = ${eventId}`))[0]?.data;

    await store.db.transaction((tx) => pseudonymizeUsers(tx, TEST_SECRET, [{ tiktokUserId: batch[0]!.userId }]));
    expect(await rawData(announcement.eventId)).toEqual({ describe: `${REMOVED_TEXT} is the MVP` });

    const summary = await store.db.transaction((tx) => pseudonymizeUsers(tx, TEST_SECRET, batch.slice(1).map((user) => ({ tiktokUserId: user.userId }))));
    expect(summary.rowsAffected).toBe(2 * (batch.length - 1) + 1);
    expect(await rawData(pieces.eventId)).toEqual({ pieces: [{ stringValue: null }, { stringValue: 'Batch Person 999' }] });
  });

  it('removes chat text by default and ignores the system user, pseudonyms and empty lists', async () => {
    const chat = makeEvent('CHAT', { message: 'my address is…' }, { user: { userId: '7200000000000000009', uniqueId: 'talker' } });
    const connected = makeEvent('CONNECTED', { isConnected: true });
    await insertEvents(store, [chat, connected]);
    const before = await snapshot(store);
    expect(await store.db.transaction((tx) => pseudonymizeUsers(tx, TEST_SECRET, []))).toEqual({ rowsAffected: 0, tablesTouched: [] });
    expect(
      await store.db.transaction((tx) => pseudonymizeUsers(tx, TEST_SECRET, [{ tiktokUserId: '0' }, { tiktokUserId: nodeHmac('x') }, { tiktokUserId: '' }])),
    ).toEqual({ rowsAffected: 0, tablesTouched: [] });
    expect(await snapshot(store)).toEqual(before);

    expect(await store.db.transaction((tx) => pseudonymizeUsers(tx, TEST_SECRET, [{ tiktokUserId: '7200000000000000009' }]))).toEqual({
      rowsAffected: 2,
      tablesTouched: ['events', 'users'],
    });
    const [stored] = await queryRows<{ event_data: UnifiedEventOf<'CHAT'>; pseudonymized: boolean }>(
      store,
      sql`SELECT e.event_data, u.pseudonymized_at IS NOT NULL AS pseudonymized
          FROM events e JOIN users u ON u.tiktok_user_id = e.user_id WHERE e.event_id = ${chat.eventId}`,
    );
    expect(stored).toEqual({
      event_data: { ...chat, user: { userId: nodeHmac('7200000000000000009'), uniqueId: nodeHmac('talker') }, payload: { message: REMOVED_TEXT } },
      pseudonymized: true,
    });
  });
});
