/** The storage writer's one statement: append a batch to `events` and keep users, streams and sessions in step. */
import { sql } from 'drizzle-orm';
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import { queryRows, type Store } from './database.ts';

export interface InsertResult {
  /** Events actually stored; redelivered ones (same eventId) are not counted. */
  inserted: number;
}

/**
 * One round trip per batch: the batch travels as one jsonb parameter, and every table is
 * updated from the rows `events` really accepted, so a redelivered batch changes nothing.
 */
export async function insertEvents(store: Store, events: UnifiedEvent[]): Promise<InsertResult> {
  if (events.length === 0) return { inserted: 0 };
  const [row] = await queryRows<{ inserted: number }>(store, insertBatchSql(JSON.stringify(events)));
  return { inserted: Number(row?.inserted ?? 0) };
}

function insertBatchSql(batch: string) {
  return sql`
    WITH batch AS (
      SELECT DISTINCT ON (item->>'eventId') item AS event
      FROM jsonb_array_elements(${batch}::jsonb) WITH ORDINALITY AS input(item, position)
      ORDER BY item->>'eventId', position
    ),
    inserted AS (
      INSERT INTO events (
        event_id, session_id, stream_id, event_type, trigger_id, schema_version, user_id,
        raw_type, seq_no, ingest_seq, "timestamp", source, event_data, ingested_at
      )
      SELECT
        event->>'eventId',
        (event->>'sessionId')::uuid,
        event->>'streamId',
        event->>'eventType',
        (event->>'triggerId')::smallint,
        event->>'schemaVersion',
        event->'user'->>'userId',
        event->>'rawType',
        event->>'seqNo',
        (event->>'ingestSeq')::bigint,
        (event->>'timestamp')::timestamptz,
        event->>'source',
        event,
        (event->>'ingestedAt')::timestamptz
      FROM batch
      ON CONFLICT (event_id) DO NOTHING
      RETURNING event_id, session_id, stream_id, user_id, ingest_seq, "timestamp", source, event_data->'user' AS author
    ),
    seen_users AS (
      SELECT
        user_id,
        min("timestamp") AS first_seen_at,
        max("timestamp") AS last_seen_at,
        count(*) AS event_count,
        (array_agg(author ORDER BY "timestamp" DESC, ingest_seq DESC NULLS LAST, event_id DESC))[1] AS latest
      FROM inserted
      WHERE user_id <> '0'
      GROUP BY user_id
    ),
    upserted_users AS (
      INSERT INTO users AS known (
        tiktok_user_id, unique_id, display_name, avatar_url, first_seen_at, last_seen_at, event_count
      )
      SELECT user_id, latest->>'uniqueId', latest->>'displayName', latest->>'avatarUrl', first_seen_at, last_seen_at, event_count
      FROM seen_users
      ORDER BY user_id
      ON CONFLICT (tiktok_user_id) DO UPDATE SET
        first_seen_at = least(known.first_seen_at, excluded.first_seen_at),
        last_seen_at = greatest(known.last_seen_at, excluded.last_seen_at),
        event_count = known.event_count + excluded.event_count,
        unique_id = CASE WHEN excluded.last_seen_at >= known.last_seen_at
          THEN excluded.unique_id ELSE known.unique_id END,
        display_name = CASE WHEN excluded.last_seen_at >= known.last_seen_at
          THEN coalesce(excluded.display_name, known.display_name)
          ELSE coalesce(known.display_name, excluded.display_name) END,
        avatar_url = CASE WHEN excluded.last_seen_at >= known.last_seen_at
          THEN coalesce(excluded.avatar_url, known.avatar_url)
          ELSE coalesce(known.avatar_url, excluded.avatar_url) END
    ),
    seen_streams AS (
      SELECT stream_id, min("timestamp") AS first_seen_at, max("timestamp") AS last_seen_at
      FROM inserted
      GROUP BY stream_id
    ),
    upserted_streams AS (
      INSERT INTO streams AS known (stream_id, first_seen_at, last_seen_at)
      SELECT stream_id, first_seen_at, last_seen_at
      FROM seen_streams
      ORDER BY stream_id
      ON CONFLICT (stream_id) DO UPDATE SET
        first_seen_at = least(known.first_seen_at, excluded.first_seen_at),
        last_seen_at = greatest(known.last_seen_at, excluded.last_seen_at)
    ),
    placeholder_sessions AS (
      INSERT INTO sessions (session_id, stream_id, type, provider)
      SELECT DISTINCT ON (session_id)
        session_id, stream_id, CASE source WHEN 'replay' THEN 'replay' ELSE 'live' END, 'unknown'
      FROM inserted
      ORDER BY session_id, "timestamp"
      ON CONFLICT (session_id) DO NOTHING
    )
    SELECT count(*)::int AS inserted FROM inserted
  `;
}
