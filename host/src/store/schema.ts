/**
 * The storage schema (PRODUCT.md "Storage"). drizzle-kit generates `drizzle/` from this file;
 * the same migrations run on PGlite and on PostgreSQL (D-012).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  char,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import type { UnifiedEvent } from '@ttlp/sdk/contract';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true });

export const SESSION_TYPES = ['live', 'replay'] as const;
export type SessionType = (typeof SESSION_TYPES)[number];

export const API_TOKEN_KINDS = ['admin', 'overlay', 'api'] as const;
export type ApiTokenKind = (typeof API_TOKEN_KINDS)[number];

/** What a session records about itself, e.g. the session a replay was read from. */
export type SessionMeta = { replayedFrom?: string } & Record<string, unknown>;

export const streams = pgTable('streams', {
  streamId: text('stream_id').primaryKey(),
  uniqueId: text('unique_id'),
  firstSeenAt: timestamptz('first_seen_at').notNull().defaultNow(),
  lastSeenAt: timestamptz('last_seen_at').notNull().defaultNow(),
});

export const sessions = pgTable(
  'sessions',
  {
    sessionId: uuid('session_id').primaryKey(),
    streamId: text('stream_id').notNull(),
    type: text('type').$type<SessionType>().notNull(),
    provider: text('provider').notNull(),
    startedAt: timestamptz('started_at').notNull().defaultNow(),
    endedAt: timestamptz('ended_at'),
    meta: jsonb('meta').$type<SessionMeta>().notNull().default({}),
  },
  (table) => [
    check('sessions_type_check', sql`${table.type} in ('live', 'replay')`),
    index('sessions_stream_started_idx').on(table.streamId, table.startedAt),
  ],
);

/** Append-only (D-007). No foreign keys: this is the hot insert path; retention and erasure keep it consistent. */
export const events = pgTable(
  'events',
  {
    eventId: char('event_id', { length: 64 }).primaryKey(),
    sessionId: uuid('session_id').notNull(),
    streamId: text('stream_id').notNull(),
    eventType: text('event_type').notNull(),
    triggerId: smallint('trigger_id').notNull(),
    schemaVersion: text('schema_version').notNull(),
    userId: text('user_id').notNull(),
    rawType: text('raw_type'),
    seqNo: text('seq_no'),
    ingestSeq: bigint('ingest_seq', { mode: 'bigint' }),
    timestamp: timestamptz('timestamp').notNull(),
    source: text('source').notNull(),
    eventData: jsonb('event_data').$type<UnifiedEvent>().notNull(),
    ingestedAt: timestamptz('ingested_at'),
    storedAt: timestamptz('stored_at').notNull().defaultNow(),
    archivedAt: timestamptz('archived_at'),
  },
  (table) => [
    index('events_session_ingest_seq_idx').on(table.sessionId, table.ingestSeq),
    index('events_session_timestamp_idx').on(table.sessionId, table.timestamp),
    index('events_type_timestamp_idx').on(table.eventType, table.timestamp),
    index('events_user_timestamp_idx').on(table.userId, table.timestamp),
    index('events_event_data_idx').using('gin', table.eventData.op('jsonb_path_ops')),
  ],
);

export const users = pgTable(
  'users',
  {
    tiktokUserId: text('tiktok_user_id').primaryKey(),
    uniqueId: text('unique_id').notNull(),
    displayName: text('display_name'),
    avatarUrl: text('avatar_url'),
    firstSeenAt: timestamptz('first_seen_at').notNull(),
    lastSeenAt: timestamptz('last_seen_at').notNull(),
    eventCount: bigint('event_count', { mode: 'number' }).notNull().default(0),
    pseudonymizedAt: timestamptz('pseudonymized_at'),
  },
  (table) => [index('users_unique_id_idx').on(table.uniqueId)],
);

export const plugins = pgTable('plugins', {
  pluginId: text('plugin_id').primaryKey(),
  enabled: boolean('enabled').notNull().default(false),
  config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
  grantedPermissions: jsonb('granted_permissions').$type<string[]>().notNull().default([]),
  status: text('status').notNull().default('installed'),
  lastError: text('last_error'),
  faultCount: integer('fault_count').notNull().default(0),
  installedAt: timestamptz('installed_at').notNull().defaultNow(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});

export const pluginKv = pgTable(
  'plugin_kv',
  {
    pluginId: text('plugin_id').notNull(),
    key: text('key').notNull(),
    value: jsonb('value').notNull(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.pluginId, table.key] })],
);

export const actionsLog = pgTable(
  'actions_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    pluginId: text('plugin_id').notNull(),
    eventId: char('event_id', { length: 64 }),
    action: text('action').notNull(),
    status: text('status').notNull(),
    error: text('error'),
    durationMs: integer('duration_ms'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (table) => [
    index('actions_log_plugin_created_idx').on(table.pluginId, table.createdAt),
    index('actions_log_created_idx').on(table.createdAt),
  ],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    tokenId: uuid('token_id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    kind: text('kind').$type<ApiTokenKind>().notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    scope: jsonb('scope').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    lastUsedAt: timestamptz('last_used_at'),
    revokedAt: timestamptz('revoked_at'),
  },
  (table) => [check('api_tokens_kind_check', sql`${table.kind} in ('admin', 'overlay', 'api')`)],
);

export const erasures = pgTable('erasures', {
  erasureId: uuid('erasure_id').primaryKey().defaultRandom(),
  subjectHmac: text('subject_hmac').notNull(),
  requestedAt: timestamptz('requested_at').notNull().defaultNow(),
  completedAt: timestamptz('completed_at'),
  rowsAffected: integer('rows_affected').notNull().default(0),
  tablesTouched: text('tables_touched').array().notNull().default(sql`'{}'::text[]`),
});
