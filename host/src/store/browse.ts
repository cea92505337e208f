/** Reads behind the API's listings: streams, sessions with their event counts, a session's events by page. */
import { and, asc, count, desc, eq, gt, gte, inArray, lte, or, sql } from 'drizzle-orm';
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import type { Store } from './database.ts';
import { events, sessions, streams } from './schema.ts';
import type { Session } from './sessions.ts';

export interface StreamSummary {
  streamId: string;
  uniqueId: string | null;
  firstSeenAt: Date;
  sessions: number;
}

export async function listStreams(store: Store): Promise<StreamSummary[]> {
  const rows = await store.db
    .select({ streamId: streams.streamId, uniqueId: streams.uniqueId, firstSeenAt: streams.firstSeenAt, sessions: count(sessions.sessionId) })
    .from(streams)
    .leftJoin(sessions, eq(sessions.streamId, streams.streamId))
    .groupBy(streams.streamId, streams.uniqueId, streams.firstSeenAt)
    .orderBy(desc(streams.firstSeenAt));
  return rows.map((row) => ({ ...row, sessions: Number(row.sessions) }));
}

/** Stored events per session, for the sessions listed (one grouped query). */
export async function eventCounts(store: Store, sessionIds: string[]): Promise<Map<string, number>> {
  if (sessionIds.length === 0) return new Map();
  const rows = await store.db
    .select({ sessionId: events.sessionId, events: count() })
    .from(events)
    .where(inArray(events.sessionId, sessionIds))
    .groupBy(events.sessionId);
  return new Map(rows.map((row) => [row.sessionId, Number(row.events)]));
}

export async function sessionById(store: Store, sessionId: string): Promise<Session | undefined> {
  const [row] = await store.db.select().from(sessions).where(eq(sessions.sessionId, sessionId));
  return row;
}

export interface EventPageQuery {
  types?: string[];
  userId?: string;
  from?: Date;
  to?: Date;
  limit: number;
  /** The last event of the previous page: its time and id. */
  after?: { timestamp: string; eventId: string };
}

/** One page of a session's events in time order (then id), with the filters given. */
export async function sessionEventPage(store: Store, sessionId: string, query: EventPageQuery): Promise<UnifiedEvent[]> {
  const after = query.after;
  const rows = await store.db
    .select({ event: events.eventData })
    .from(events)
    .where(
      and(
        eq(events.sessionId, sessionId),
        query.types && query.types.length > 0 ? inArray(events.eventType, query.types) : undefined,
        query.userId === undefined ? undefined : eq(events.userId, query.userId),
        query.from === undefined ? undefined : gte(events.timestamp, query.from),
        query.to === undefined ? undefined : lte(events.timestamp, query.to),
        after === undefined
          ? undefined
          : or(
              gt(events.timestamp, new Date(after.timestamp)),
              and(eq(events.timestamp, new Date(after.timestamp)), gt(events.eventId, after.eventId)),
            ),
      ),
    )
    .orderBy(asc(events.timestamp), asc(events.eventId))
    .limit(query.limit);
  return rows.map((row) => row.event);
}

/** Makes sure a session row exists (test events need one when nothing is connected). */
export async function ensureSession(store: Store, session: { sessionId: string; streamId: string; provider: string }): Promise<void> {
  await store.db.insert(streams).values({ streamId: session.streamId }).onConflictDoNothing();
  await store.db
    .insert(sessions)
    .values({ sessionId: session.sessionId, streamId: session.streamId, type: 'live', provider: session.provider, startedAt: sql`now()` })
    .onConflictDoNothing();
}
