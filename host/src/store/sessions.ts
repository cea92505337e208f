/** Sessions (one per connect, reconnect or replay run) and the reads that replay and summaries need. */
import { and, asc, count, desc, eq, gt, notInArray, sql } from 'drizzle-orm';
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import type { Store } from './database.ts';
import { events, sessions, streams, type SessionMeta, type SessionType } from './schema.ts';

export type Session = typeof sessions.$inferSelect;

export interface SessionStart {
  sessionId: string;
  streamId: string;
  type: SessionType;
  provider: string;
  meta?: SessionMeta;
}

/** Events the provider emits about the connection rather than the stream's audience. */
export const LIFECYCLE_EVENT_TYPES = ['CONNECTED', 'DISCONNECTED', 'ERROR'] as const;

/**
 * Records a session, or corrects the placeholder the storage writer made when events
 * arrived first: the session's owner knows its provider, type and meta, the writer does not.
 */
export async function startSession(store: Store, start: SessionStart): Promise<void> {
  await store.db.insert(streams).values({ streamId: start.streamId }).onConflictDoNothing();
  await store.db
    .insert(sessions)
    .values({ ...start, meta: start.meta ?? {} })
    .onConflictDoUpdate({
      target: sessions.sessionId,
      set: { type: sql`excluded.type`, provider: sql`excluded.provider`, meta: sql`excluded.meta` },
    });
}

/** Marks the session ended; a second call keeps the first end time. Returns false for an unknown session. */
export async function endSession(store: Store, sessionId: string, at: Date = new Date()): Promise<boolean> {
  const ended = await store.db
    .update(sessions)
    .set({ endedAt: sql`coalesce(${sessions.endedAt}, ${at.toISOString()}::timestamptz)` })
    .where(eq(sessions.sessionId, sessionId))
    .returning({ sessionId: sessions.sessionId });
  return ended.length > 0;
}

export async function getSession(store: Store, sessionId: string): Promise<Session | undefined> {
  const [session] = await store.db.select().from(sessions).where(eq(sessions.sessionId, sessionId));
  return session;
}

export async function listSessions(store: Store, options: { streamId?: string; limit: number }): Promise<Session[]> {
  return store.db
    .select()
    .from(sessions)
    .where(options.streamId === undefined ? undefined : eq(sessions.streamId, options.streamId))
    .orderBy(desc(sessions.startedAt), asc(sessions.sessionId))
    .limit(options.limit);
}

export async function countEvents(
  store: Store,
  sessionId: string,
  options: { excludeLifecycle?: boolean } = {},
): Promise<number> {
  const [row] = await store.db
    .select({ events: count() })
    .from(events)
    .where(
      and(
        eq(events.sessionId, sessionId),
        options.excludeLifecycle ? notInArray(events.eventType, [...LIFECYCLE_EVENT_TYPES]) : undefined,
      ),
    );
  return row?.events ?? 0;
}

/** Stored events of the session per eventType; types with no events are absent. */
export async function countByType(store: Store, sessionId: string): Promise<Record<string, number>> {
  const rows = await store.db
    .select({ eventType: events.eventType, events: count() })
    .from(events)
    .where(eq(events.sessionId, sessionId))
    .groupBy(events.eventType);
  return Object.fromEntries(rows.map((row) => [row.eventType, row.events]));
}

/**
 * The session's events in receive order, for replay. Page with the last event's `ingestSeq`
 * as `afterIngestSeq`; events stored without an ingestSeq sort last and only by timestamp.
 */
export async function sessionEvents(
  store: Store,
  sessionId: string,
  options: { afterIngestSeq?: string; limit: number },
): Promise<UnifiedEvent[]> {
  const rows = await store.db
    .select({ event: events.eventData })
    .from(events)
    .where(
      and(
        eq(events.sessionId, sessionId),
        options.afterIngestSeq === undefined ? undefined : gt(events.ingestSeq, BigInt(options.afterIngestSeq)),
      ),
    )
    .orderBy(sql`${events.ingestSeq} asc nulls last`, asc(events.timestamp), asc(events.eventId))
    .limit(options.limit);
  return rows.map((row) => row.event);
}
