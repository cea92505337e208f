/**
 * Opens the store: PostgreSQL when a DATABASE_URL is given, embedded PGlite otherwise (D-012),
 * then applies the `drizzle/` migrations under an advisory lock.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.ts';
import * as schema from './schema.ts';

export type StoreSchema = typeof schema;
export type StoreDatabase = PgDatabase<PgQueryResultHKT, StoreSchema>;

export interface Store {
  db: StoreDatabase;
  driver: 'pglite' | 'pg';
  /** The database URL with its password hidden, or the PGlite data directory. */
  location: string;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl?: string;
  dataDir: string;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../drizzle', import.meta.url));

/** Any fixed key works as long as every host uses the same one; this is "ttlp" in ASCII. */
const MIGRATION_LOCK_KEY = '1953786992';
const POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 5_000;
const UNPARSEABLE_URL = '<unparseable database URL>';

export async function openStore(options: StoreOptions): Promise<Store> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openPglite(options.dataDir);
}

/** Raw SQL on either driver: node-postgres and PGlite both answer with `{ rows }`. */
export async function queryRows<Row>(store: Store, query: SQL): Promise<Row[]> {
  const result = (await store.db.execute(query)) as { rows?: Row[] };
  return result.rows ?? [];
}

async function openPostgres(databaseUrl: string): Promise<Store> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A client dying (a server restart, a terminated backend) must not crash the host: the query
  // in flight fails by itself, and the pool replaces the client.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    await migratePostgres(pool, databaseUrl);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return {
    db: drizzleNodePg({ client: pool, schema }),
    driver: 'pg',
    location: redactUrl(databaseUrl),
    close: () => pool.end(),
  };
}

async function migratePostgres(pool: pg.Pool, databaseUrl: string): Promise<void> {
  const client = await connectOrExplain(pool, databaseUrl);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await migrateNodePg(drizzleNodePg({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await unlockAndRelease(client);
  }
}

async function unlockAndRelease(client: pg.PoolClient): Promise<void> {
  try {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    client.release();
  } catch (error) {
    // Destroying the connection ends its session, which frees the lock all the same.
    client.release(error instanceof Error ? error : true);
  }
}

async function connectOrExplain(pool: pg.Pool, databaseUrl: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw connectionFailure(databaseUrl, error);
  }
}

/** A server that answered (bad password, missing database) keeps its SQLSTATE; anything else is unreachable. */
function connectionFailure(databaseUrl: string, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const answered = cause instanceof pg.DatabaseError;
  const message = answered
    ? `PostgreSQL at ${redactUrl(databaseUrl)} refused the connection: ${reason}`
    : `cannot reach PostgreSQL at ${redactUrl(databaseUrl)}: ${reason}`;
  return Object.assign(new Error(message, { cause }), { code: answered ? cause.code : 'STORE_UNREACHABLE' });
}

async function openPglite(dataDir: string): Promise<Store> {
  const location = path.join(dataDir, 'pglite');
  await mkdir(location, { recursive: true });
  const unlock = lockDataDir(location);
  let client: PGlite | undefined;
  try {
    client = await PGlite.create({ dataDir: location, extensions: { pgcrypto } });
    const db = drizzlePglite({ client, schema });
    await migratePgliteLocked(client, db);
    const opened = client;
    return {
      db,
      driver: 'pglite',
      location,
      close: async () => {
        try {
          await opened.close();
        } finally {
          unlock();
        }
      },
    };
  } catch (error) {
    await client?.close();
    unlock();
    throw error;
  }
}

/** PGlite has a single connection, but taking the same lock keeps one migration path for both drivers. */
async function migratePgliteLocked(client: PGlite, db: Parameters<typeof migratePglite>[0]): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}

/** `url` with its password replaced by `***` (also a `password` query parameter); never throws. */
export function redactUrl(url: string): string {
  try {
    return redactParsedUrl(url, new URL(url));
  } catch {
    return redactUnparsedUrl(url);
  }
}

function redactParsedUrl(original: string, url: URL): string {
  const hasPasswordParam = url.searchParams.has('password');
  if (!url.password && !hasPasswordParam) return original;
  if (url.password) url.password = '***';
  if (hasPasswordParam) url.searchParams.set('password', '***');
  return url.toString();
}

/** Strings WHATWG URL rejects, such as multi-host PostgreSQL URLs; over-redacting is the safe mistake. */
function redactUnparsedUrl(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return UNPARSEABLE_URL;
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):[^@]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}
