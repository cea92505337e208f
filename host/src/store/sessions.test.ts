import { randomUUID } from 'node:crypto';
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.ts';
import { insertEvents } from './events.ts';
import { countByType, countEvents, endSession, getSession, listSessions, sessionEvents, startSession } from './sessions.ts';
import { STORE_DRIVERS, useTestStore } from '../../test/support/database.ts';
import { chatEvent, connectedEvent, giftEvent } from '../../test/support/events.ts';

/** Pages through the whole session the way a replay does. */
async function readAll(store: Store, sessionId: string, limit: number): Promise<UnifiedEvent[]> {
  const read: UnifiedEvent[] = [];
  let afterIngestSeq: string | undefined;
  for (;;) {
    const page = await sessionEvents(store, sessionId, { afterIngestSeq, limit });
    read.push(...page);
    if (page.length < limit) return read;
    afterIngestSeq = page.at(-1)?.ingestSeq;
  }
}

describe.each(STORE_DRIVERS)('sessions on %s', (driver) => {
  const opened = useTestStore(driver);
  let store: Store;

  beforeAll(() => {
    store = opened.store;
  });

  it('starts, reads and ends a session', async () => {
    const sessionId = randomUUID();
    await startSession(store, { sessionId, streamId: 'room-a', type: 'live', provider: 'connector' });
    const started = await getSession(store, sessionId);
    expect(started).toMatchObject({ sessionId, streamId: 'room-a', type: 'live', provider: 'connector', meta: {}, endedAt: null });
    expect(started?.startedAt).toBeInstanceOf(Date);

    const end = new Date('2026-11-25T20:00:00.000Z');
    expect(await endSession(store, sessionId, end)).toBe(true);
    expect(await endSession(store, sessionId, new Date('2026-11-25T21:00:00.000Z'))).toBe(true);
    expect((await getSession(store, sessionId))?.endedAt).toEqual(end);
  });

  it('knows nothing of unknown sessions', async () => {
    const sessionId = randomUUID();
    expect(await getSession(store, sessionId)).toBeUndefined();
    expect(await endSession(store, sessionId)).toBe(false);
    expect(await countEvents(store, sessionId)).toBe(0);
    expect(await countByType(store, sessionId)).toEqual({});
    expect(await sessionEvents(store, sessionId, { limit: 10 })).toEqual([]);
  });

  it('lists sessions newest first, optionally of one stream', async () => {
    const streamId = `room-${randomUUID()}`;
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const sessionId of ids) {
      await startSession(store, { sessionId, streamId, type: 'live', provider: 'connector' });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await startSession(store, { sessionId: randomUUID(), streamId: 'elsewhere', type: 'replay', provider: 'capture' });

    const listed = await listSessions(store, { streamId, limit: 10 });
    expect(listed.map((session) => session.sessionId)).toEqual([...ids].reverse());
    expect(await listSessions(store, { streamId, limit: 2 })).toHaveLength(2);
    expect((await listSessions(store, { limit: 100 })).length).toBeGreaterThanOrEqual(4);
  });

  it('counts events, with or without lifecycle events, and per type', async () => {
    const sessionId = randomUUID();
    await insertEvents(store, [
      connectedEvent({ sessionId, seqNo: 1 }),
      chatEvent({ sessionId, seqNo: 2 }),
      chatEvent({ sessionId, seqNo: 3 }),
      giftEvent({ sessionId, seqNo: 4 }),
    ]);
    expect(await countEvents(store, sessionId)).toBe(4);
    expect(await countEvents(store, sessionId, { excludeLifecycle: true })).toBe(3);
    expect(await countByType(store, sessionId)).toEqual({ CONNECTED: 1, CHAT: 2, GIFT: 1 });
  });

  it('returns events in receive order, then by timestamp and eventId', async () => {
    const sessionId = randomUUID();
    const at = (second: number) => `2026-11-25T18:00:${String(second).padStart(2, '0')}.000Z`;
    // Receive order runs against timestamp order, as TikTok's createTime may.
    const byIngest = [1, 2, 3, 4, 5].map((n) => chatEvent({ sessionId, seqNo: 100 - n, ingestSeq: String(n), timestamp: at(9 - n) }));
    const unordered = (seqNo: number, second: number) => chatEvent({ sessionId, seqNo, ingestSeq: null, timestamp: at(second) });
    const late = unordered(200, 9);
    const early = unordered(201, 1);
    const tied = [unordered(300, 10), unordered(301, 10)];
    await insertEvents(store, [byIngest[3]!, late, byIngest[0]!, ...tied]);
    await insertEvents(store, [byIngest[4]!, early, byIngest[2]!, byIngest[1]!]);

    const ordered = await sessionEvents(store, sessionId, { limit: 100 });
    const tiedInOrder = [...tied].sort((a, b) => a.eventId.localeCompare(b.eventId));
    expect(ordered.map((event) => event.eventId)).toEqual([...byIngest, early, late, ...tiedInOrder].map((event) => event.eventId));
    expect(ordered[0]).toEqual(byIngest[0]);
  });

  it('pages by ingestSeq, beyond 2^53', async () => {
    const sessionId = randomUUID();
    const base = 9_007_199_254_740_990n;
    const stored = Array.from({ length: 23 }, (_, i) => chatEvent({ sessionId, seqNo: i + 1, ingestSeq: String(base + BigInt(i)) }));
    await insertEvents(store, [...stored].reverse());

    expect((await readAll(store, sessionId, 5)).map((event) => event.ingestSeq)).toEqual(stored.map((event) => event.ingestSeq));
    const page = await sessionEvents(store, sessionId, { afterIngestSeq: String(base + 20n), limit: 10 });
    expect(page.map((event) => event.ingestSeq)).toEqual(['9007199254741011', '9007199254741012']);
  });
});
