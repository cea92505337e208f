/**
 * Throwaway databases for tests: a fresh PostgreSQL database per suite (on the server named by
 * TEST_DATABASE_URL, which must be reachable: tests fail rather than skip), or PGlite in a temp dir.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openStore, redactUrl, type Store } from '../../src/store/database.ts';
import { copyPgliteTemplate } from './pglite-template.ts';

export const TEST_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const STORE_DRIVERS = ['pglite', 'pg'] as const satisfies readonly Store['driver'][];

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export interface TestStore {
  store: Store;
  /** Closes the store and deletes its database or data directory. */
  dispose(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `ttlp_test_${randomBytes(6).toString('hex')}`;
  await asAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => asAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function asAdmin(work: (admin: pg.Client) => Promise<unknown>): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  await admin.connect().catch((error: unknown) => {
    throw new Error(`the PostgreSQL tests need a server: set TEST_DATABASE_URL (tried ${redactUrl(TEST_ADMIN_URL)})`, { cause: error });
  });
  try {
    await work(admin);
  } finally {
    await admin.end();
  }
}

export async function createTestDataDir(): Promise<{ dataDir: string; remove(): Promise<void> }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ttlp-store-'));
  return { dataDir, remove: () => rm(dataDir, { recursive: true, force: true }) };
}

/** A migrated store on `driver`, in a database or directory of its own. */
export async function openTestStore(driver: Store['driver']): Promise<TestStore> {
  const database = driver === 'pg' ? await createTestDatabase() : undefined;
  const dir = await createTestDataDir();
  if (driver === 'pglite') await copyPgliteTemplate(dir.dataDir);
  const remove = async () => {
    await database?.drop();
    await dir.remove();
  };
  const store = await openStore({ dataDir: dir.dataDir, databaseUrl: database?.url }).catch(async (error: unknown) => {
    await remove();
    throw error;
  });
  return {
    store,
    dispose: async () => {
      await store.close();
      await remove();
    },
  };
}

/** A test store for the enclosing `describe`: opened before its tests, disposed after them. */
export function useTestStore(driver: Store['driver']): { readonly store: Store } {
  let testStore: TestStore | undefined;
  beforeAll(async () => {
    testStore = await openTestStore(driver);
  });
  afterAll(async () => {
    await testStore?.dispose();
  });
  return {
    get store() {
      if (!testStore) throw new Error('the test store is not open yet');
      return testStore.store;
    },
  };
}
