/**
 * The one pseudonymization both erasure and retention apply (D-011): a TikTok id or handle
 * becomes `encode(hmac(value, secret, 'sha256'), 'hex')`, computed by pgcrypto so PGlite and
 * PostgreSQL agree, and display names and avatars go. Inside the caller's transaction it rewrites
 * `users`, `events` (the `user_id` column and the event JSON), `streams.unique_id` and `plugin_kv`.
 *
 * In `events.event_data`, set-based SQL handles the typed parts: the event's `user` when it is one
 * of theirs (`userId`, `uniqueId` → pseudonyms, `displayName` and `avatarUrl` removed, flags kept),
 * their CHAT `payload.message` (→ `REMOVED_TEXT`), BATTLE `payload.participants[]` entries that are
 * theirs and GIFT `payload.receiverUserId`. RAW `payload.data` and plugin kv values, whose shape
 * the host does not own, go through scrub.ts (its header lists what it covers). Everything else,
 * including other users' entries in the same event, is left as it was.
 */
import { sql, type SQL } from 'drizzle-orm';
import { SYSTEM_USER } from '@ttlp/sdk';
import type { StoreDatabase } from '../store/database.ts';
import { REMOVED_TEXT, discoverIdentity, scrubDocument, type DiscoveredIdentity, type ErasedPeople, type Json } from './scrub.ts';

export { REMOVED_TEXT } from './scrub.ts';

/** The handle `store.db.transaction(async (tx) => …)` passes. */
export type StoreTransaction = Parameters<Parameters<StoreDatabase['transaction']>[0]>[0];

export interface PseudonymizeOptions {
  /** Stored as `users.pseudonymized_at`; the transaction's time when left out. */
  now?: Date;
  /** Replace what they wrote (chat text) with `REMOVED_TEXT`; default true. */
  removeContent?: boolean;
}

export interface PseudonymizationSummary {
  /** Rows changed: users (a merge into an earlier pseudonymized row counts both), events, streams, plugin_kv. */
  rowsAffected: number;
  /** The tables among those that had rows changed, sorted. */
  tablesTouched: string[];
}

/** A pseudonym is 64 lowercase hex digits; a TikTok id (decimal, at most 20 digits) never is. */
export const PSEUDONYM_PATTERN = /^[0-9a-f]{64}$/;

export const isPseudonym = (value: string) => PSEUDONYM_PATTERN.test(value);

export function pseudonymSql(value: SQL, secret: string): SQL {
  return sql`encode(hmac(${value}, ${secret}::text, 'sha256'), 'hex')`;
}

/** An empty handle stays empty: it identifies nobody, and its pseudonym would link every such row. */
function handlePseudonymSql(value: SQL, secret: string): SQL {
  return sql`CASE WHEN ${value} = '' THEN '' ELSE ${pseudonymSql(value, secret)} END`;
}

/** Raw SQL inside a transaction, on either driver (see `queryRows`). */
export async function rowsOf<Row>(tx: StoreTransaction, query: SQL): Promise<Row[]> {
  const result = (await tx.execute(query)) as { rows?: Row[] };
  return result.rows ?? [];
}

const jsonParam = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

/** The pseudonym of each value, computed by the database. */
export async function pseudonymsOf(tx: StoreTransaction, secret: string, values: Iterable<string>): Promise<Map<string, string>> {
  const distinct = [...new Set(values)];
  if (distinct.length === 0) return new Map();
  const rows = await rowsOf<{ value: string; pseudonym: string }>(
    tx,
    sql`SELECT v.value, ${pseudonymSql(sql`v.value`, secret)} AS pseudonym FROM jsonb_array_elements_text(${jsonParam(distinct)}) AS v(value)`,
  );
  return new Map(rows.map((row) => [row.value, row.pseudonym]));
}

export async function pseudonymOf(tx: StoreTransaction, secret: string, value: string): Promise<string> {
  const pseudonym = (await pseudonymsOf(tx, secret, [value])).get(value);
  if (pseudonym === undefined) throw new Error('pgcrypto returned no pseudonym');
  return pseudonym;
}

interface KnownPerson {
  userId: string;
  pseudonym: string;
  handles: string[];
  nicknames: string[];
  profileStrings: string[];
}

/**
 * Pseudonymizes `users` (by their plaintext TikTok id) and everything that names them. Ids that
 * are already pseudonyms, the system user and unknown ids change nothing, so running it again is
 * harmless. A user seen again after an earlier pseudonymization (a new plaintext row) is merged
 * into the pseudonymized row.
 */
export async function pseudonymizeUsers(
  tx: StoreTransaction,
  secret: string,
  users: ReadonlyArray<{ tiktokUserId: string }>,
  options: PseudonymizeOptions = {},
): Promise<PseudonymizationSummary> {
  const ids = [...new Set(users.map((user) => user.tiktokUserId))].filter((id) => id !== '' && id !== SYSTEM_USER.userId && !isPseudonym(id));
  if (ids.length === 0) return { rowsAffected: 0, tablesTouched: [] };
  const removeContent = options.removeContent ?? true;
  const people = await knownPeople(tx, secret, ids);
  const targets = jsonParam(people.map((person) => ({ user_id: person.userId, pseudonym: person.pseudonym })));

  const usersChanged = await pseudonymizeUserRows(tx, secret, targets, options.now);
  const eventsChanged = new Set(await pseudonymizeTypedEvents(tx, secret, targets, removeContent));
  const documents = await pseudonymizeDocuments(tx, secret, people, removeContent);
  for (const eventId of documents.eventIds) eventsChanged.add(eventId);
  const streamsChanged = await pseudonymizeStreams(tx, secret, documents.handles);

  const counts: Record<string, number> = {
    users: usersChanged,
    events: eventsChanged.size,
    streams: streamsChanged,
    plugin_kv: documents.kvRows,
  };
  return {
    rowsAffected: Object.values(counts).reduce((sum, n) => sum + n, 0),
    tablesTouched: Object.keys(counts)
      .filter((table) => counts[table]! > 0)
      .sort(),
  };
}

/** A function with the shape retention takes: `pseudonymizeUsers` bound to the deployment's secret. */
export function pseudonymizerFor(secret: string) {
  return (tx: StoreTransaction, users: ReadonlyArray<{ tiktokUserId: string }>, options: PseudonymizeOptions = {}) =>
    pseudonymizeUsers(tx, secret, users, options);
}

const participantPattern = (userId: SQL) =>
  sql`jsonb_build_object('payload', jsonb_build_object('participants', jsonb_build_array(jsonb_build_object('userId', ${userId}))))`;

/** Each id with its pseudonym and every handle, nickname and avatar the typed data shows for it. */
async function knownPeople(tx: StoreTransaction, secret: string, ids: string[]): Promise<KnownPerson[]> {
  const rows = await rowsOf<KnownPerson>(
    tx,
    sql`
      WITH target AS (SELECT jsonb_array_elements_text(${jsonParam(ids)}) AS user_id),
      seen AS (
        SELECT u.tiktok_user_id AS user_id, u.unique_id AS handle, u.display_name AS nickname, u.avatar_url AS avatar
        FROM users u JOIN target t ON u.tiktok_user_id = t.user_id
        UNION
        SELECT e.user_id, e.event_data->'user'->>'uniqueId', e.event_data->'user'->>'displayName', e.event_data->'user'->>'avatarUrl'
        FROM events e JOIN target t ON e.user_id = t.user_id
        UNION
        SELECT t.user_id, p.entry->>'uniqueId', p.entry->>'displayName', NULL
        FROM target t
        JOIN events e ON e.event_data @> ${participantPattern(sql`t.user_id`)}
        CROSS JOIN LATERAL jsonb_array_elements(e.event_data->'payload'->'participants') AS p(entry)
        WHERE p.entry->>'userId' = t.user_id
      )
      SELECT
        t.user_id AS "userId",
        ${pseudonymSql(sql`t.user_id`, secret)} AS pseudonym,
        coalesce(jsonb_agg(DISTINCT s.handle) FILTER (WHERE s.handle <> ''), '[]') AS handles,
        coalesce(jsonb_agg(DISTINCT s.nickname) FILTER (WHERE s.nickname <> ''), '[]') AS nicknames,
        coalesce(jsonb_agg(DISTINCT s.avatar) FILTER (WHERE s.avatar <> ''), '[]') AS "profileStrings"
      FROM target t LEFT JOIN seen s ON s.user_id = t.user_id
      GROUP BY t.user_id
    `,
  );
  return rows.map((row) => ({ ...row, handles: asStrings(row.handles), nicknames: asStrings(row.nicknames), profileStrings: asStrings(row.profileStrings) }));
}

/** jsonb arrives parsed from node-postgres and PGlite alike; this only narrows its type. */
const asStrings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

const targetTable = (targets: SQL) => sql`jsonb_to_recordset(${targets}) AS t(user_id text, pseudonym text)`;

async function pseudonymizeUserRows(tx: StoreTransaction, secret: string, targets: SQL, now: Date | undefined): Promise<number> {
  const at = sql`coalesce(${now?.toISOString() ?? null}::timestamptz, now())`;
  const [row] = await rowsOf<{ changed: number }>(
    tx,
    sql`
      WITH target AS (SELECT * FROM ${targetTable(targets)}),
      merged AS (
        UPDATE users AS earlier SET
          first_seen_at = least(earlier.first_seen_at, seen.first_seen_at),
          last_seen_at = greatest(earlier.last_seen_at, seen.last_seen_at),
          event_count = earlier.event_count + seen.event_count,
          pseudonymized_at = ${at}
        FROM target t JOIN users seen ON seen.tiktok_user_id = t.user_id
        WHERE earlier.tiktok_user_id = t.pseudonym
        RETURNING t.user_id
      ),
      dropped AS (
        DELETE FROM users AS u USING merged m WHERE u.tiktok_user_id = m.user_id RETURNING 1
      ),
      renamed AS (
        UPDATE users AS u SET
          tiktok_user_id = t.pseudonym,
          unique_id = ${handlePseudonymSql(sql`u.unique_id`, secret)},
          display_name = NULL,
          avatar_url = NULL,
          pseudonymized_at = ${at}
        FROM target t
        WHERE u.tiktok_user_id = t.user_id
          AND NOT EXISTS (SELECT 1 FROM users AS earlier WHERE earlier.tiktok_user_id = t.pseudonym)
        RETURNING 1
      )
      SELECT ((SELECT count(*) FROM merged) + (SELECT count(*) FROM dropped) + (SELECT count(*) FROM renamed))::int AS changed
    `,
  );
  return Number(row?.changed ?? 0);
}

/** The typed parts of every event that names them; returns the ids of the events changed. */
async function pseudonymizeTypedEvents(tx: StoreTransaction, secret: string, targets: SQL, removeContent: boolean): Promise<string[]> {
  const rows = await rowsOf<{ event_id: string }>(
    tx,
    sql`
      WITH target AS (SELECT * FROM ${targetTable(targets)}),
      candidate AS (
        SELECT e.event_id FROM events e JOIN target t ON e.user_id = t.user_id
        UNION
        SELECT e.event_id FROM events e JOIN target t ON e.event_data @> ${participantPattern(sql`t.user_id`)}
        UNION
        SELECT e.event_id FROM events e JOIN target t
          ON e.event_data @> jsonb_build_object('payload', jsonb_build_object('receiverUserId', t.user_id))
      ),
      authored AS (
        SELECT e.event_id, e.event_type, a.pseudonym AS author,
          CASE WHEN a.pseudonym IS NULL THEN e.event_data
          ELSE jsonb_set(
            e.event_data, '{user}',
            ((e.event_data->'user') - 'displayName' - 'avatarUrl')
              || jsonb_build_object('userId', a.pseudonym)
              || CASE WHEN e.event_data->'user' ? 'uniqueId'
                   THEN jsonb_build_object('uniqueId', ${handlePseudonymSql(sql`(e.event_data->'user'->>'uniqueId')`, secret)})
                   ELSE '{}'::jsonb END)
          END AS data
        FROM candidate c JOIN events e ON e.event_id = c.event_id LEFT JOIN target a ON a.user_id = e.user_id
      ),
      worded AS (
        SELECT event_id, author,
          CASE WHEN author IS NOT NULL AND ${removeContent}::boolean AND event_type = 'CHAT' AND jsonb_typeof(data->'payload'->'message') = 'string'
            THEN jsonb_set(data, '{payload,message}', to_jsonb(${REMOVED_TEXT}::text))
            ELSE data END AS data
        FROM authored
      ),
      battled AS (
        SELECT event_id, author,
          CASE WHEN jsonb_typeof(data->'payload'->'participants') = 'array' THEN jsonb_set(data, '{payload,participants}', (
            SELECT coalesce(jsonb_agg(
              CASE WHEN pt.pseudonym IS NULL THEN p.entry
              ELSE (p.entry - 'displayName')
                || jsonb_build_object('userId', pt.pseudonym)
                || CASE WHEN p.entry ? 'uniqueId'
                     THEN jsonb_build_object('uniqueId', ${handlePseudonymSql(sql`(p.entry->>'uniqueId')`, secret)})
                     ELSE '{}'::jsonb END
              END ORDER BY p.ordinal), '[]'::jsonb)
            FROM jsonb_array_elements(data->'payload'->'participants') WITH ORDINALITY AS p(entry, ordinal)
            LEFT JOIN target pt ON jsonb_typeof(p.entry) = 'object' AND pt.user_id = p.entry->>'userId'
          ))
          ELSE data END AS data
        FROM worded
      ),
      received AS (
        SELECT b.event_id, b.author,
          CASE WHEN r.pseudonym IS NULL THEN b.data ELSE jsonb_set(b.data, '{payload,receiverUserId}', to_jsonb(r.pseudonym)) END AS data
        FROM battled b LEFT JOIN target r ON r.user_id = b.data->'payload'->>'receiverUserId'
      ),
      updated AS (
        UPDATE events e SET user_id = coalesce(r.author, e.user_id), event_data = r.data
        FROM received r
        WHERE e.event_id = r.event_id AND (r.author IS NOT NULL OR r.data <> e.event_data)
        RETURNING e.event_id
      )
      SELECT event_id FROM updated
    `,
  );
  return rows.map((row) => row.event_id);
}

async function pseudonymizeStreams(tx: StoreTransaction, secret: string, handles: ReadonlySet<string>): Promise<number> {
  if (handles.size === 0) return 0;
  const [row] = await rowsOf<{ changed: number }>(
    tx,
    sql`
      WITH renamed AS (
        UPDATE streams SET unique_id = ${pseudonymSql(sql`unique_id`, secret)}
        WHERE unique_id IN (SELECT jsonb_array_elements_text(${jsonParam([...handles])}))
        RETURNING 1
      )
      SELECT count(*)::int AS changed FROM renamed
    `,
  );
  return Number(row?.changed ?? 0);
}

/** How a plaintext value appears inside jsonb's text: JSON-escaped, without the quotes. */
const asJsonText = (value: string) => JSON.stringify(value).slice(1, -1);

/** A handle made of TikTok's handle characters is one token of the lowercased text. */
const TOKEN_HANDLE = /^[A-Za-z0-9._]+$/;

/** Up to this many free-text needles, text is searched for them anywhere; beyond, only whole JSON strings. */
export const SUBSTRING_SEARCH_MAX = 64;

/** A JSON string literal in jsonb's text; its capture is the escaped content. */
const JSON_STRING_LITERAL = String.raw`"((?:[^"\\]|\\.)*)"`;

const inList = (values: string[]) => sql`(SELECT jsonb_array_elements_text(${jsonParam(values)}))`;

/**
 * Whether `body` (jsonb printed as text) names anyone: one of their ids as a run of digits, one
 * of their handles as a token in any case, or a nickname or avatar URL. Ids and handles are joined
 * against the tokens of the text, so the cost grows with the text and not with how many users are
 * pseudonymized at once; free text is searched as a substring when there is little of it (an
 * erasure), and as whole JSON strings for a large retention batch.
 */
function mentions(body: SQL, ids: string[], found: DiscoveredIdentity): SQL {
  const tokenHandles = [...found.handles].filter((handle) => TOKEN_HANDLE.test(handle));
  const digitIds = ids.filter((id) => /^[0-9]+$/.test(id));
  const texts = [
    ...ids.filter((id) => !/^[0-9]+$/.test(id)),
    ...[...found.handles].filter((handle) => handle !== '' && !TOKEN_HANDLE.test(handle)),
    ...found.nicknames,
    ...found.profileStrings,
  ]
    .filter((text) => text !== '')
    .map(asJsonText);
  const conditions: SQL[] = [sql`false`];
  if (digitIds.length > 0)
    conditions.push(sql`EXISTS (SELECT 1 FROM regexp_split_to_table(${body}, '[^0-9]+') AS r(run) WHERE r.run IN ${inList(digitIds)})`);
  if (tokenHandles.length > 0)
    conditions.push(
      sql`EXISTS (SELECT 1 FROM regexp_split_to_table(lower(${body}), '[^a-z0-9._]+') AS t(token)
                  WHERE t.token IN ${inList(tokenHandles.map((handle) => handle.toLowerCase()))})`,
    );
  if (texts.length > 0 && texts.length <= SUBSTRING_SEARCH_MAX)
    conditions.push(sql`EXISTS (SELECT 1 FROM jsonb_array_elements_text(${jsonParam(texts)}) AS n(needle) WHERE strpos(${body}, n.needle) > 0)`);
  else if (texts.length > 0)
    conditions.push(
      sql`EXISTS (SELECT 1 FROM regexp_matches(${body}, ${JSON_STRING_LITERAL}, 'g') AS m(captured) WHERE m.captured[1] IN ${inList(texts)})`,
    );
  return sql.join(conditions, sql` OR `);
}

interface DocumentsResult {
  eventIds: string[];
  kvRows: number;
  /** Every handle known by the end, for `streams`. */
  handles: Set<string>;
}

/** RAW `payload.data` and plugin kv values, through scrub.ts. */
async function pseudonymizeDocuments(
  tx: StoreTransaction,
  secret: string,
  people: KnownPerson[],
  removeContent: boolean,
): Promise<DocumentsResult> {
  const ids = new Map(people.map((person) => [person.userId, person.pseudonym]));
  const found: DiscoveredIdentity = {
    handles: new Set(people.flatMap((person) => person.handles)),
    nicknames: new Set(people.flatMap((person) => person.nicknames)),
    profileStrings: new Set(people.flatMap((person) => person.profileStrings)),
  };
  const idList = [...ids.keys()];
  // OFFSET 0 keeps the text computed once per row, not once per condition that reads it.
  const rawEvents = await rowsOf<{ event_id: string; data: Json }>(
    tx,
    sql`SELECT e.event_id, e.event_data->'payload'->'data' AS data
        FROM events e CROSS JOIN LATERAL (SELECT (e.event_data->'payload'->'data')::text AS body OFFSET 0) AS b
        WHERE e.event_type = 'RAW' AND e.event_data->'payload' ? 'data' AND (${mentions(sql`b.body`, idList, found)})`,
  );
  const kvRows = await rowsOf<{ plugin_id: string; key: string; value: Json }>(
    tx,
    sql`SELECT k.plugin_id, k.key, k.value
        FROM plugin_kv k CROSS JOIN LATERAL (SELECT k.key || ' ' || k.value::text AS body OFFSET 0) AS b
        WHERE ${mentions(sql`b.body`, idList, found)}`,
  );

  const idSet = new Set(ids.keys());
  for (const row of rawEvents) discoverIdentity(row.data, idSet, found);
  for (const row of kvRows) discoverIdentity(row.value, idSet, found);
  const erased: ErasedPeople = {
    ids,
    handles: await pseudonymsOf(tx, secret, found.handles),
    nicknames: found.nicknames,
    profileStrings: found.profileStrings,
    removeContent,
  };
  const scrubKey = (key: string) => {
    const scrubbed = scrubDocument(key, erased);
    return typeof scrubbed === 'string' ? scrubbed : key;
  };

  const changedEvents = rawEvents
    .map((row) => ({ event_id: row.event_id, data: scrubDocument(row.data, erased), original: row.data }))
    .filter((row) => row.data !== row.original)
    .map(({ event_id, data }) => ({ event_id, data }));
  const changedKv = kvRows
    .map((row) => ({ plugin_id: row.plugin_id, key: row.key, new_key: scrubKey(row.key), value: scrubDocument(row.value, erased), original: row.value }))
    .filter((row) => row.value !== row.original || row.new_key !== row.key)
    .map(({ plugin_id, key, new_key, value }) => ({ plugin_id, key, new_key, value }));

  const eventIds =
    changedEvents.length === 0
      ? []
      : (
          await rowsOf<{ event_id: string }>(
            tx,
            sql`UPDATE events e SET event_data = jsonb_set(e.event_data, '{payload,data}', coalesce(u.data, 'null'::jsonb))
                FROM jsonb_to_recordset(${jsonParam(changedEvents)}) AS u(event_id text, data jsonb)
                WHERE e.event_id = u.event_id
                RETURNING e.event_id`,
          )
        ).map((row) => row.event_id);
  const kvChanged =
    changedKv.length === 0
      ? 0
      : (
          await rowsOf<{ plugin_id: string }>(
            tx,
            sql`UPDATE plugin_kv k SET key = u.new_key, value = coalesce(u.value, 'null'::jsonb), updated_at = now()
                FROM jsonb_to_recordset(${jsonParam(changedKv)}) AS u(plugin_id text, key text, new_key text, value jsonb)
                WHERE k.plugin_id = u.plugin_id AND k.key = u.key
                RETURNING k.plugin_id`,
          )
        ).length;
  return { eventIds, kvRows: kvChanged, handles: found.handles };
}
