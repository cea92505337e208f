/** What the privacy tests share: the secret, whole-database snapshots and the people in captures. */
import { createHmac } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import { queryRows, type Store } from '../../src/store/database.ts';

export const TEST_SECRET = 'privacy-test-secret-of-at-least-32-bytes';

export const nodeHmac = (value: string, secret: string = TEST_SECRET) => createHmac('sha256', secret).update(value).digest('hex');

/** Every row of every table in the schema, as PostgreSQL prints the row. */
export type Snapshot = Record<string, string[]>;

export async function snapshot(store: Store): Promise<Snapshot> {
  const tables = await queryRows<{ name: string }>(
    store,
    sql`SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const result: Snapshot = {};
  for (const { name } of tables) {
    const rows = await queryRows<{ row: string }>(store, sql`SELECT t::text AS row FROM ${sql.identifier(name)} t`);
    result[name] = rows.map((row) => row.row).sort();
  }
  return result;
}

/** The rows of `before` that `after` no longer has (as a multiset). */
export function rowsGone(before: string[], after: string[]): string[] {
  const remaining = new Map<string, number>();
  for (const row of after) remaining.set(row, (remaining.get(row) ?? 0) + 1);
  return before.filter((row) => {
    const left = remaining.get(row) ?? 0;
    if (left === 0) return true;
    remaining.set(row, left - 1);
    return false;
  });
}

/** The rows, in any table, whose text holds any of `needles` (compared without case). */
export function rowsMentioning(tables: Snapshot, needles: string[]): string[] {
  const lowered = needles.filter((needle) => needle !== '').map((needle) => needle.toLowerCase());
  return Object.entries(tables).flatMap(([table, rows]) =>
    rows.filter((row) => lowered.some((needle) => row.toLowerCase().includes(needle))).map((row) => `${table}: ${row}`),
  );
}

export interface Person {
  userId: string;
  handles: string[];
  nicknames: string[];
  /** Avatar URLs and secUids. */
  profileStrings: string[];
}

export const plaintextOf = (person: Person) => [person.userId, ...person.handles, ...person.nicknames, ...person.profileStrings];

const AVATAR_KEY = /avatar/i;

/** Everything `events` show about `userId`: the typed user fields, and the user objects in RAW data. */
export function personIn(events: UnifiedEvent[], userId: string): Person {
  const handles = new Set<string>();
  const nicknames = new Set<string>();
  const profile = new Set<string>();
  const add = (set: Set<string>, value: unknown) => {
    if (typeof value === 'string' && value !== '') set.add(value);
  };
  const strings = (value: unknown): string[] =>
    typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(strings) : [];
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    if (!Array.isArray(value) && [object.id, object.idStr, object.userId].includes(userId)) {
      add(handles, object.displayId);
      add(handles, object.uniqueId);
      add(nicknames, object.nickname);
      add(nicknames, object.nickName);
      add(profile, object.secUid);
      for (const [key, item] of Object.entries(object)) if (AVATAR_KEY.test(key)) strings(item).filter((s) => s.includes('/')).forEach((s) => profile.add(s));
    }
    Object.values(object).forEach(visit);
  };
  for (const event of events) {
    if (event.user.userId === userId) {
      add(handles, event.user.uniqueId);
      add(nicknames, event.user.displayName);
      add(profile, event.user.avatarUrl);
    }
    if (event.eventType === 'BATTLE')
      for (const participant of event.payload?.participants ?? [])
        if (participant.userId === userId) {
          add(handles, participant.uniqueId);
          add(nicknames, participant.displayName);
        }
    if (event.eventType === 'RAW') visit(event.payload?.data);
  }
  return { userId, handles: [...handles], nicknames: [...nicknames], profileStrings: [...profile] };
}

/**
 * A chatter of the captures whose data erasure must reach in as many RAW messages of others as
 * possible, and whom no other user's typed event mentions (a mention in someone else's chat text
 * is theirs and stays).
 */
export function pickErasureTarget(events: UnifiedEvent[]): { person: Person; rawMentions: number } {
  const chatters = [...new Set(events.filter((event) => event.eventType === 'CHAT').map((event) => event.user.userId))];
  const texts = events.map((event) => JSON.stringify(event).toLowerCase());
  const ranked = chatters.flatMap((userId) => {
    const person = personIn(events, userId);
    const needles = plaintextOf(person).map((needle) => needle.toLowerCase());
    let rawMentions = 0;
    for (const [i, event] of events.entries()) {
      if (event.user.userId === userId) continue;
      if (!needles.some((needle) => texts[i]!.includes(needle))) continue;
      if (event.eventType === 'RAW') rawMentions += 1;
      else if (!(event.eventType === 'GIFT' && event.payload?.receiverUserId === userId)) return [];
    }
    return person.nicknames.length > 0 ? [{ person, rawMentions }] : [];
  });
  ranked.sort((a, b) => b.rawMentions - a.rawMentions || a.person.userId.localeCompare(b.person.userId));
  const best = ranked[0];
  if (!best) throw new Error('the captures hold no chatter to erase');
  return best;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Where `after` differs from `before` in something that was not the person's: everything inside
 * their user objects may change, and so may values that held their plaintext, keys that were their
 * id, and text replaced by the removal marker. Anything else listed is someone else's data changed.
 */
export function changesToOthers(before: unknown, after: unknown, person: Person, removed: string, path = '$'): string[] {
  const needles = plaintextOf(person).map((needle) => needle.toLowerCase());
  const theirs = (value: unknown) => typeof value === 'string' && needles.some((needle) => value.toLowerCase().includes(needle));
  const walk = (b: unknown, a: unknown, at: string): string[] => {
    if (isRecord(b) && [b.id, b.idStr, b.userId].includes(person.userId)) return [];
    if (Array.isArray(b)) {
      if (!Array.isArray(a) || a.length !== b.length) return [at];
      return b.flatMap((item, i) => walk(item, a[i], `${at}[${i}]`));
    }
    if (isRecord(b)) {
      if (!isRecord(a)) return [at];
      const renamed = (key: string) => (key === person.userId ? Object.keys(a).find((k) => /^[0-9a-f]{64}$/.test(k) && !(k in b)) ?? key : key);
      const extra = Object.keys(a).filter((key) => !(key in b) && !Object.keys(b).some((k) => renamed(k) === key));
      return [...extra.map((key) => `${at}.${key}`), ...Object.keys(b).flatMap((key) => walk(b[key], a[renamed(key)], `${at}.${key}`))];
    }
    if (b === a || theirs(b) || a === removed) return [];
    return [at];
  };
  return walk(before, after, path);
}
