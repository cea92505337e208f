import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, openStore, queryRows, redactUrl, type Store } from './database.ts';
import { STORE_DRIVERS, TEST_ADMIN_URL, createTestDataDir, createTestDatabase, type TestDatabase } from '../../test/support/database.ts';

/** Every migration in the journal, generated and hand-written. */
const MIGRATION_COUNT = (JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] })
  .entries.length;

const TABLES = ['actions_log', 'api_tokens', 'erasures', 'events', 'plugin_kv', 'plugins', 'sessions', 'streams', 'users'];

async function publicTables(store: Store): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(
    store,
    sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  );
  return rows.map((row) => row.name);
}

async function appliedMigrations(store: Store): Promise<string[]> {
  const rows = await queryRows<{ hash: string }>(store, sql`SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id`);
  return rows.map((row) => row.hash);
}

/** Where each driver keeps a store, so it can be opened again. */
async function storePlace(driver: Store['driver']): Promise<{ open(): Promise<Store>; remove(): Promise<void> }> {
  const database: TestDatabase | undefined = driver === 'pg' ? await createTestDatabase() : undefined;
  const dir = await createTestDataDir();
  return {
    open: () => openStore({ dataDir: dir.dataDir, databaseUrl: database?.url }),
    remove: async () => {
      await database?.drop();
      await dir.remove();
    },
  };
}

describe.each(STORE_DRIVERS)('openStore on %s', (driver) => {
  let place: Awaited<ReturnType<typeof storePlace>>;
  let store: Store;

  beforeAll(async () => {
    place = await storePlace(driver);
    store = await place.open();
  });

  afterAll(async () => {
    await store?.close();
    await place?.remove();
  });

  it('applies the migrations: every table exists', async () => {
    expect(store.driver).toBe(driver);
    expect(await publicTables(store)).toEqual(TABLES);
    expect(await appliedMigrations(store)).toHaveLength(MIGRATION_COUNT);
  });

  it('compresses stored events with lz4 where the server has it (PostgreSQL), else keeps the default (PGlite)', async () => {
    const [row] = await queryRows<{ method: string }>(
      store,
      sql`SELECT attcompression AS method FROM pg_attribute WHERE attrelid = 'events'::regclass AND attname = 'event_data'`,
    );
    expect(row?.method).toBe(driver === 'pg' ? 'l' : '');
  });

  it('has pgcrypto: hmac() matches HMAC-SHA256 computed in Node', async () => {
    const [row] = await queryRows<{ pseudonym: string }>(
      store,
      sql`SELECT encode(hmac(${'6812345678901234567'}, ${'a-secret-of-at-least-32-bytes!!!'}, 'sha256'), 'hex') AS pseudonym`,
    );
    const expected = createHmac('sha256', 'a-secret-of-at-least-32-bytes!!!').update('6812345678901234567').digest('hex');
    expect(row?.pseudonym).toBe(expected);
  });

  it('fills gen_random_uuid() defaults', async () => {
    const [row] = await queryRows<{ token_id: string }>(
      store,
      sql`INSERT INTO api_tokens (name, kind, token_hash) VALUES ('overlay', 'overlay', ${`hash-${driver}`}) RETURNING token_id`,
    );
    expect(row?.token_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('enforces the session type check', async () => {
    await expect(
      store.db.execute(sql`INSERT INTO sessions (session_id, stream_id, type, provider) VALUES (gen_random_uuid(), 's', 'rerun', 'x')`),
    ).rejects.toThrow();
  });

  it('opening again applies nothing', async () => {
    const before = await appliedMigrations(store);
    await store.close();
    store = await place.open();
    expect(await appliedMigrations(store)).toEqual(before);
    expect(await publicTables(store)).toEqual(TABLES);
  });

  it('names where it stores, without secrets', () => {
    if (driver === 'pglite') expect(path.basename(store.location)).toBe('pglite');
    else expect(store.location).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:5432\/ttlp_test_[0-9a-f]+$/);
  });
});

describe('openStore on PostgreSQL', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('lets several hosts start at once on a fresh database (advisory lock)', async () => {
    const dir = await createTestDataDir();
    const stores = await Promise.all([1, 2, 3].map(() => openStore({ dataDir: dir.dataDir, databaseUrl: database.url })));
    try {
      for (const store of stores) expect(await publicTables(store)).toEqual(TABLES);
      expect(await appliedMigrations(stores[0]!)).toHaveLength(MIGRATION_COUNT);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await dir.remove();
    }
  });

  it('fails fast with STORE_UNREACHABLE, hiding the password', async () => {
    const failure = await openStore({ dataDir: '/nonexistent', databaseUrl: 'postgres://u:secret@127.0.0.1:1/x' }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ code: 'STORE_UNREACHABLE' });
    const message = (failure as Error).message;
    // Fast: refused at once (ECONNREFUSED), not a connect timeout waited out.
    expect(message).toMatch(/^cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x: .*ECONNREFUSED/);
    expect(message).not.toContain('secret');
  });

  it('reports a server that refuses the connection with its SQLSTATE', async () => {
    const missing = new URL(TEST_ADMIN_URL);
    missing.pathname = '/ttlp_no_such_database';
    const failure = await openStore({ dataDir: '/nonexistent', databaseUrl: missing.toString() }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: '3D000' });
    expect((failure as Error).message).toMatch(/^PostgreSQL at .*ttlp_no_such_database refused the connection: /);
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://app:s3cret@db:5432/ttlp', 'postgres://app:***@db:5432/ttlp'],
    ['postgresql://app:p%40ss@db/ttlp?sslmode=require', 'postgresql://app:***@db/ttlp?sslmode=require'],
    ['postgres://app:p@ss@db/ttlp', 'postgres://app:***@db/ttlp'],
    ['postgres://:only-password@db/ttlp', 'postgres://:***@db/ttlp'],
    ['postgres://app@db/ttlp?password=s3cret', 'postgres://app@db/ttlp?password=***'],
    ['postgres://app:pa/ss@db/ttlp', 'postgres://app:***@db/ttlp'],
    ['postgres://app:s3cret@h1:5432,h2:5432/ttlp', 'postgres://app:***@h1:5432,h2:5432/ttlp'],
  ])('hides the password of %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it.each(['postgres://app@db:5432/ttlp', 'postgres://db/ttlp', 'postgres://h1:5432,h2:5432/ttlp'])('leaves %s unchanged', (url) => {
    expect(redactUrl(url)).toBe(url);
  });

  it.each(['', 'not a url', 'host=db password=s3cret', '://:@'])('returns a placeholder for %j', (garbage) => {
    const redacted = redactUrl(garbage);
    expect(redacted).not.toContain('s3cret');
    expect(redacted).toBe('<unparseable database URL>');
  });
});
