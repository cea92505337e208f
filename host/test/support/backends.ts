/**
 * Whole-pipeline test back-ends: the embedded default (PGlite in a temp dir, in-process bus)
 * and production (a fresh PostgreSQL database and a unique Redis key prefix on the real servers).
 * Unreachable servers fail the tests; they are never skipped.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTestDatabase, createTestDataDir } from './database.ts';
import { copyPgliteTemplate } from './pglite-template.ts';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BACKEND_KINDS = ['embedded', 'production'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export interface TestBackend {
  kind: BackendKind;
  /** The environment a `ttlp` command or `loadConfig` needs for this back-end. */
  env: NodeJS.ProcessEnv;
  databaseUrl?: string;
  redisPrefix?: string;
  dispose(): Promise<void>;
}

/** A connected admin client; throws with a clear message when Redis is down. */
export async function redisAdmin(): Promise<Redis> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch (error) {
    throw new Error(`Redis at ${TEST_REDIS_URL} is unreachable (set TEST_REDIS_URL): ${error instanceof Error ? error.message : String(error)}`);
  }
  return redis;
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = await redisAdmin();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function createTestBackend(kind: BackendKind, extra: NodeJS.ProcessEnv = {}): Promise<TestBackend> {
  const dir = await createTestDataDir();
  const base: NodeJS.ProcessEnv = { DATA_DIR: dir.dataDir, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...extra };
  if (kind === 'embedded') {
    await copyPgliteTemplate(dir.dataDir);
    return { kind, env: base, dispose: dir.remove };
  }
  const database = await createTestDatabase();
  const redisPrefix = `ttlp-test-${randomBytes(5).toString('hex')}:`;
  await (await redisAdmin()).quit();
  return {
    kind,
    env: {
      ...base,
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: redisPrefix,
      // Required with PostgreSQL (D-011); a fixed one is fine for tests.
      PSEUDONYMIZATION_SECRET: 'test-pseudonymization-secret-for-postgresql-0123',
    },
    databaseUrl: database.url,
    redisPrefix,
    async dispose() {
      await deleteKeys(redisPrefix);
      await database.drop();
      await dir.remove();
    },
  };
}
