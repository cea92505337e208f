import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { validateUnifiedEvent } from '@ttlp/sdk/contract';
import { beforeAll, describe, expect, it } from 'vitest';
import { queryRows, type Store } from './database.ts';
import { insertEvents } from './events.ts';
import { events, sessions, streams, users } from './schema.ts';
import { getSession, startSession } from './sessions.ts';
import { STORE_DRIVERS, useTestStore } from '../../test/support/database.ts';
import { chatEvent, connectedEvent, giftEvent } from '../../test/support/events.ts';

/** A user id no other test uses, so tests can share one database. */
function freshUserId(): string {
  return String(7_000_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e15)));
}

function freshStreamId(): string {
  return String(7_600_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e15)));
}

async function user(store: Store, userId: string) {
  const [row] = await store.db.select().from(users).where(eq(users.tiktokUserId, userId));
  return row;
}

async function storedCount(store: Store, sessionId: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(store, sql`SELECT count(*)::int AS n FROM events WHERE session_id = ${sessionId}`);
  return row?.n ?? 0;
}

describe('test events', () => {
  it('are valid UnifiedEvents, ingestSeq included', () => {
    const sessionId = randomUUID();
    const samples = [
      chatEvent({ sessionId, seqNo: 1, displayName: 'Ana' }),
      connectedEvent({ sessionId, seqNo: 2 }),
      giftEvent({ sessionId, seqNo: 3 }),
    ];
    for (const event of samples) {
      expect(validateUnifiedEvent(event)).toEqual({ ok: true, value: event });
    }
  });
});

describe.each(STORE_DRIVERS)('insertEvents on %s', (driver) => {
  const opened = useTestStore(driver);
  let store: Store;

  beforeAll(() => {
    store = opened.store;
  });

  it('stores a batch with every column taken from the event', async () => {
    const sessionId = randomUUID();
    const batch = [connectedEvent({ sessionId, seqNo: 1 }), chatEvent({ sessionId, seqNo: '7312345678901234567', ingestSeq: '2' })];
    expect(await insertEvents(store, batch)).toEqual({ inserted: 2 });

    const [row] = await store.db.select().from(events).where(eq(events.eventId, batch[1]!.eventId));
    expect(row).toMatchObject({
      sessionId,
      streamId: batch[1]!.streamId,
      eventType: 'CHAT',
      triggerId: 1,
      schemaVersion: '1',
      userId: batch[1]!.user.userId,
      rawType: 'WebcastChatMessage',
      seqNo: '7312345678901234567',
      ingestSeq: 2n,
      timestamp: new Date('2026-11-25T18:00:00.000Z'),
      source: 'live',
      eventData: batch[1],
      ingestedAt: new Date('2026-11-25T18:00:00.250Z'),
      archivedAt: null,
    });
    expect(row?.storedAt).toBeInstanceOf(Date);
  });

  it('stores ingest_seq as null when the event has none', async () => {
    const sessionId = randomUUID();
    const event = chatEvent({ sessionId, seqNo: 1, ingestSeq: null });
    await insertEvents(store, [event]);
    const [row] = await store.db.select({ ingestSeq: events.ingestSeq }).from(events).where(eq(events.eventId, event.eventId));
    expect(row).toEqual({ ingestSeq: null });
  });

  it('inserts nothing for an empty batch', async () => {
    expect(await insertEvents(store, [])).toEqual({ inserted: 0 });
  });

  it('counts a redelivered batch as 0 and leaves users untouched', async () => {
    const sessionId = randomUUID();
    const userId = freshUserId();
    const batch = [1, 2, 3].map((seqNo) => chatEvent({ sessionId, seqNo, userId }));
    expect(await insertEvents(store, batch)).toEqual({ inserted: 3 });
    const before = await user(store, userId);

    expect(await insertEvents(store, batch)).toEqual({ inserted: 0 });
    expect(await user(store, userId)).toEqual(before);
    expect(before?.eventCount).toBe(3);
    expect(await storedCount(store, sessionId)).toBe(3);
  });

  it('counts only the new events of a partly redelivered batch', async () => {
    const sessionId = randomUUID();
    const userId = freshUserId();
    const first = [1, 2].map((seqNo) => chatEvent({ sessionId, seqNo, userId }));
    await insertEvents(store, first);
    expect(await insertEvents(store, [...first, chatEvent({ sessionId, seqNo: 3, userId })])).toEqual({ inserted: 1 });
    expect((await user(store, userId))?.eventCount).toBe(3);
  });

  it('stores an event repeated within one batch once', async () => {
    const sessionId = randomUUID();
    const userId = freshUserId();
    const twice = chatEvent({ sessionId, seqNo: 1, userId });
    const batch = [twice, chatEvent({ sessionId, seqNo: 2, userId }), { ...twice }];
    expect(await insertEvents(store, batch)).toEqual({ inserted: 2 });
    expect(await storedCount(store, sessionId)).toBe(2);
    expect((await user(store, userId))?.eventCount).toBe(2);
  });

  it('upserts users: first and last seen, event count, latest names', async () => {
    const sessionId = randomUUID();
    const userId = freshUserId();
    const at = (minute: number) => `2026-11-25T18:${String(minute).padStart(2, '0')}:00.000Z`;
    await insertEvents(store, [
      chatEvent({ sessionId, seqNo: 2, userId, uniqueId: 'ana', displayName: 'Ana', timestamp: at(10) }),
      chatEvent({ sessionId, seqNo: 1, userId, uniqueId: 'ana', displayName: 'Ana B', timestamp: at(5) }),
    ]);
    expect(await user(store, userId)).toMatchObject({
      uniqueId: 'ana',
      displayName: 'Ana',
      avatarUrl: null,
      firstSeenAt: new Date(at(5)),
      lastSeenAt: new Date(at(10)),
      eventCount: 2,
      pseudonymizedAt: null,
    });

    const renamed = { uniqueId: 'ana_new', displayName: 'Ana ✨' };
    await insertEvents(store, [chatEvent({ sessionId, seqNo: 3, userId, ...renamed, timestamp: at(20) })]);
    expect(await user(store, userId)).toMatchObject({ ...renamed, lastSeenAt: new Date(at(20)), eventCount: 3 });

    // A late, older event counts and moves first_seen_at, but does not bring back the old names.
    await insertEvents(store, [chatEvent({ sessionId, seqNo: 4, userId, uniqueId: 'ana_old', displayName: 'Old', timestamp: at(1) })]);
    expect(await user(store, userId)).toMatchObject({
      uniqueId: 'ana_new',
      displayName: 'Ana ✨',
      firstSeenAt: new Date(at(1)),
      lastSeenAt: new Date(at(20)),
      eventCount: 4,
    });

    // An event without a display name keeps the known one.
    await insertEvents(store, [giftEvent({ sessionId, seqNo: 5, userId, uniqueId: 'ana_new', timestamp: at(30) })]);
    expect(await user(store, userId)).toMatchObject({ displayName: 'Ana ✨', lastSeenAt: new Date(at(30)), eventCount: 5 });
  });

  it('does not store the system user', async () => {
    const sessionId = randomUUID();
    await insertEvents(store, [connectedEvent({ sessionId, seqNo: 1 })]);
    expect(await user(store, '0')).toBeUndefined();
  });

  it('creates stream and placeholder session rows from the stored events', async () => {
    const sessionId = randomUUID();
    const streamId = freshStreamId();
    await insertEvents(store, [
      chatEvent({ sessionId, streamId, seqNo: 1, source: 'replay', timestamp: '2026-11-20T10:00:00.000Z' }),
      chatEvent({ sessionId, streamId, seqNo: 2, source: 'replay', timestamp: '2026-11-20T10:05:00.000Z' }),
    ]);
    expect(await getSession(store, sessionId)).toMatchObject({
      sessionId,
      streamId,
      type: 'replay',
      provider: 'unknown',
      meta: {},
      endedAt: null,
    });
    const [stream] = await store.db.select().from(streams).where(eq(streams.streamId, streamId));
    expect(stream).toEqual({
      streamId,
      uniqueId: null,
      firstSeenAt: new Date('2026-11-20T10:00:00.000Z'),
      lastSeenAt: new Date('2026-11-20T10:05:00.000Z'),
    });

    await insertEvents(store, [chatEvent({ sessionId: randomUUID(), streamId, seqNo: 1, timestamp: '2026-11-20T11:00:00.000Z' })]);
    const [bumped] = await store.db.select().from(streams).where(eq(streams.streamId, streamId));
    expect(bumped?.lastSeenAt).toEqual(new Date('2026-11-20T11:00:00.000Z'));
    expect(bumped?.firstSeenAt).toEqual(new Date('2026-11-20T10:00:00.000Z'));
  });

  it("keeps the session owner's provider, type and meta when the owner comes first", async () => {
    const sessionId = randomUUID();
    const replayedFrom = randomUUID();
    await startSession(store, { sessionId, streamId: 'room-1', type: 'replay', provider: 'capture', meta: { replayedFrom } });
    await insertEvents(store, [chatEvent({ sessionId, streamId: 'room-1', seqNo: 1, source: 'live' })]);
    expect(await getSession(store, sessionId)).toMatchObject({ type: 'replay', provider: 'capture', meta: { replayedFrom } });
  });

  it("corrects the writer's placeholder when the owner comes second", async () => {
    const sessionId = randomUUID();
    const replayedFrom = randomUUID();
    await insertEvents(store, [chatEvent({ sessionId, streamId: 'room-2', seqNo: 1, source: 'live' })]);
    expect(await getSession(store, sessionId)).toMatchObject({ type: 'live', provider: 'unknown' });
    await startSession(store, { sessionId, streamId: 'room-2', type: 'replay', provider: 'capture', meta: { replayedFrom } });
    expect(await getSession(store, sessionId)).toMatchObject({ type: 'replay', provider: 'capture', meta: { replayedFrom } });
    const [row] = await store.db.select({ n: sql<number>`count(*)::int` }).from(sessions).where(eq(sessions.sessionId, sessionId));
    expect(row?.n).toBe(1);
  });

  it('stores a large batch and counts it exactly', async () => {
    const sessionId = randomUUID();
    const batch = Array.from({ length: 500 }, (_, i) => chatEvent({ sessionId, seqNo: i + 1, userId: String(1000 + (i % 7)) }));
    expect(await insertEvents(store, batch)).toEqual({ inserted: 500 });
    expect(await storedCount(store, sessionId)).toBe(500);
  });
});
