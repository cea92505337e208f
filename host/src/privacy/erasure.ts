/**
 * GDPR erasure of one TikTok user (`ttlp gdpr erase`, `POST /api/gdpr/erase`): in one transaction
 * the user is found, pseudonymized the way retention does it (pseudonymize.ts), and an `erasures`
 * audit row is written that names the subject only by the HMAC of the identifier given. Any failure
 * rolls all of it back. A repeated request is recognized through the pseudonym, changes nothing,
 * and is audited too, so the log shows every request that was answered.
 */
import { sql } from 'drizzle-orm';
import { SYSTEM_USER } from '@ttlp/sdk';
import type { Store } from '../store/database.ts';
import { isPseudonym, pseudonymOf, pseudonymizeUsers, rowsOf, type StoreTransaction } from './pseudonymize.ts';

export type ErasureErrorCode = 'ERASURE_SUBJECT_INVALID' | 'ERASURE_SUBJECT_NOT_FOUND' | 'ERASURE_SUBJECT_AMBIGUOUS';

export class ErasureError extends Error {
  constructor(
    readonly code: ErasureErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ErasureError';
  }
}

/** Exactly one of them: the numeric TikTok id, or the handle (with or without its @). */
export interface ErasureSubject {
  userId?: string;
  uniqueId?: string;
}

export interface ErasureSummary {
  /** Rows pseudonymized (users, events, streams, plugin_kv); the audit row is not counted. */
  rowsAffected: number;
  tablesTouched: string[];
  /** When the erasure completed (the audit row's `completed_at`), ISO 8601. */
  timestamp: string;
  /** HMAC of the identifier given, as stored in `erasures.subject_hmac`. */
  subjectHmac: string;
  /** The user had been erased (or pseudonymized by retention) before: nothing changed. */
  alreadyErased: boolean;
}

type Identifier = { kind: 'userId' | 'uniqueId'; value: string };

type Lookup = { kind: 'present'; userId: string } | { kind: 'erased' } | { kind: 'missing' };

function identifierOf(subject: ErasureSubject): Identifier {
  const userId = subject.userId?.trim();
  const uniqueId = subject.uniqueId?.trim().replace(/^@/, '');
  if (userId && uniqueId) throw new ErasureError('ERASURE_SUBJECT_INVALID', 'give either a user id or a handle, not both');
  if (userId) {
    if (userId === SYSTEM_USER.userId) throw new ErasureError('ERASURE_SUBJECT_INVALID', 'the system user stands for no person and cannot be erased');
    if (isPseudonym(userId)) throw new ErasureError('ERASURE_SUBJECT_INVALID', 'that is a pseudonym, not a TikTok user id: its user is already pseudonymized');
    return { kind: 'userId', value: userId };
  }
  if (uniqueId) return { kind: 'uniqueId', value: uniqueId };
  throw new ErasureError('ERASURE_SUBJECT_INVALID', 'give the user id or the handle of the user to erase');
}

const participantWith = (field: 'userId' | 'uniqueId', value: string) =>
  sql`jsonb_build_object('payload', jsonb_build_object('participants', jsonb_build_array(jsonb_build_object(${field}::text, ${value}::text))))`;

/** By id: a users row, else an event that names the id (a battle opponent has no users row). */
async function findById(tx: StoreTransaction, userId: string, pseudonym: string): Promise<Lookup> {
  const named = (id: string) => sql`
    EXISTS (SELECT 1 FROM users WHERE tiktok_user_id = ${id})
    OR EXISTS (SELECT 1 FROM events WHERE user_id = ${id})
    OR EXISTS (SELECT 1 FROM events WHERE event_data @> ${participantWith('userId', id)})
    OR EXISTS (SELECT 1 FROM events WHERE event_data @> jsonb_build_object('payload', jsonb_build_object('receiverUserId', ${id}::text)))`;
  const [row] = await rowsOf<{ present: boolean; erased: boolean }>(tx, sql`SELECT (${named(userId)}) AS present, (${named(pseudonym)}) AS erased`);
  if (row?.present) return { kind: 'present', userId };
  return row?.erased ? { kind: 'erased' } : { kind: 'missing' };
}

/**
 * By handle: the users row holding it now (in any case), an event whose author used it before,
 * or a battle participant; two different people with it make the request ambiguous.
 */
async function findByHandle(tx: StoreTransaction, secret: string, handle: string): Promise<Lookup> {
  const holders = await rowsOf<{ user_id: string }>(
    tx,
    sql`SELECT tiktok_user_id AS user_id FROM users WHERE lower(unique_id) = lower(${handle}) AND pseudonymized_at IS NULL
        UNION
        SELECT user_id FROM events WHERE event_data @> jsonb_build_object('user', jsonb_build_object('uniqueId', ${handle}::text))
        UNION
        SELECT p.entry->>'userId' FROM events e
        CROSS JOIN LATERAL jsonb_array_elements(e.event_data->'payload'->'participants') AS p(entry)
        WHERE e.event_data @> ${participantWith('uniqueId', handle)} AND p.entry->>'uniqueId' = ${handle} AND p.entry->>'userId' IS NOT NULL`,
  );
  const ids = [...new Set(holders.map((row) => row.user_id))].filter((id) => id !== SYSTEM_USER.userId && !isPseudonym(id));
  if (ids.length > 1)
    throw new ErasureError('ERASURE_SUBJECT_AMBIGUOUS', `${ids.length} different users have had that handle: erase by user id instead`);
  if (ids.length === 1) return { kind: 'present', userId: ids[0]! };
  const pseudonyms = [await pseudonymOf(tx, secret, handle), await pseudonymOf(tx, secret, handle.toLowerCase())] as const;
  const [row] = await rowsOf<{ erased: boolean }>(
    tx,
    sql`SELECT EXISTS (SELECT 1 FROM users WHERE unique_id IN (${pseudonyms[0]}, ${pseudonyms[1]}))
          OR EXISTS (SELECT 1 FROM events WHERE event_data @> ${participantWith('uniqueId', pseudonyms[0])})
          OR EXISTS (SELECT 1 FROM events WHERE event_data @> ${participantWith('uniqueId', pseudonyms[1])}) AS erased`,
  );
  return row?.erased ? { kind: 'erased' } : { kind: 'missing' };
}

export async function eraseUser(store: Store, secret: string, subject: ErasureSubject, now: Date = new Date()): Promise<ErasureSummary> {
  const identifier = identifierOf(subject);
  return store.db.transaction(async (tx) => {
    const subjectHmac = await pseudonymOf(tx, secret, identifier.value);
    const found = identifier.kind === 'userId' ? await findById(tx, identifier.value, subjectHmac) : await findByHandle(tx, secret, identifier.value);
    if (found.kind === 'missing')
      throw new ErasureError('ERASURE_SUBJECT_NOT_FOUND', `no stored data names that ${identifier.kind === 'userId' ? 'user id' : 'handle'}`);
    const summary =
      found.kind === 'present'
        ? await pseudonymizeUsers(tx, secret, [{ tiktokUserId: found.userId }], { now })
        : { rowsAffected: 0, tablesTouched: [] };
    const [audit] = await rowsOf<{ completed_at: string }>(
      tx,
      sql`INSERT INTO erasures (subject_hmac, requested_at, completed_at, rows_affected, tables_touched)
          VALUES (${subjectHmac}, ${now.toISOString()}::timestamptz, clock_timestamp(), ${summary.rowsAffected},
                  ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(summary.tablesTouched)}::jsonb)))
          RETURNING to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS completed_at`,
    );
    if (!audit) throw new Error('the erasure audit row was not written');
    return {
      rowsAffected: summary.rowsAffected,
      tablesTouched: summary.tablesTouched,
      timestamp: audit.completed_at,
      subjectHmac,
      alreadyErased: found.kind === 'erased',
    };
  });
}
