/**
 * `ttlp health`: can this host reach its storage and bus? For container healthchecks and
 * operators; prints one JSON object and exits 1 when a component is down.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { ConfigFlags, HostConfig } from '../config.ts';
import { redactUrl } from '../store/database.ts';
import { configFrom } from './pipeline-command.ts';

export interface ComponentHealth {
  ok: boolean;
  kind: string;
  location: string;
  error?: string;
}

export interface HealthReport {
  ok: boolean;
  storage: ComponentHealth;
  bus: ComponentHealth;
}

const TIMEOUT_MS = 3000;
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function storageHealth(config: HostConfig): Promise<ComponentHealth> {
  if (!config.databaseUrl) {
    // PGlite belongs to the running host alone; what another process can check is its folder.
    const location = path.resolve(config.dataDir);
    try {
      mkdirSync(location, { recursive: true });
      accessSync(location, constants.W_OK);
      return { ok: true, kind: 'pglite', location };
    } catch (error) {
      return { ok: false, kind: 'pglite', location, error: message(error) };
    }
  }
  const location = redactUrl(config.databaseUrl);
  const client = new pg.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('select 1');
    return { ok: true, kind: 'postgres', location };
  } catch (error) {
    return { ok: false, kind: 'postgres', location, error: message(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function busHealth(config: HostConfig): Promise<ComponentHealth> {
  if (!config.redisUrl) return { ok: true, kind: 'memory', location: 'in-process' };
  const location = redactUrl(config.redisUrl);
  const redis = new Redis(config.redisUrl, { lazyConnect: true, connectTimeout: TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
    return { ok: true, kind: 'redis', location };
  } catch (error) {
    return { ok: false, kind: 'redis', location, error: message(error) };
  } finally {
    redis.disconnect();
  }
}

export async function runHealth(flags: ConfigFlags, env: NodeJS.ProcessEnv): Promise<HealthReport> {
  const config = configFrom(env, flags);
  const [storage, bus] = await Promise.all([storageHealth(config), busHealth(config)]);
  return { ok: storage.ok && bus.ok, storage, bus };
}
