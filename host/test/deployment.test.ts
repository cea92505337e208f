/** docker-compose.yml and the configuration loader must not drift apart. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_ENV_VARIABLES, loadConfig } from '../src/config.ts';
import { repoRoot } from './support/captures.ts';

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string> | string[];
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}

const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
const host = compose.services.host!;
const hostEnvironment = (Array.isArray(host.environment)
  ? Object.fromEntries(host.environment.map((entry) => entry.split('=', 2) as [string, string]))
  : host.environment ?? {}) as Record<string, string>;

/** What a production deployment must set: the shared back-ends. */
const REQUIRED_IN_DEPLOYMENT = ['DATABASE_URL', 'REDIS_URL', 'PSEUDONYMIZATION_SECRET'];

describe('docker-compose.yml', () => {
  it('sets only environment variables the host configuration knows', () => {
    const unknown = Object.keys(hostEnvironment).filter((name) => !CONFIG_ENV_VARIABLES.includes(name));
    expect(unknown).toEqual([]);
  });

  it('sets every variable a production deployment needs', () => {
    for (const name of REQUIRED_IN_DEPLOYMENT) expect(Object.keys(hostEnvironment)).toContain(name);
  });

  it('gives the host a configuration the loader accepts', () => {
    const env = Object.fromEntries(
      Object.entries(hostEnvironment).map(([name, value]) => [
        name,
        // `${X:-default}` takes its default; a required `${X:?message}` a value of the right size.
        String(value)
          .replace(/\$\{(\w+):-([^}]*)\}/g, '$2')
          .replace(/\$\{(\w+):\?[^}]*\}/g, 'x'.repeat(48)),
      ]),
    );
    const config = loadConfig(env);
    expect(config.databaseUrl).toMatch(/^postgres:\/\/ttlp:.+@postgres:5432\/ttlp$/);
    expect(config.redisUrl).toBe('redis://redis:6379');
  });

  it('runs postgres 16 and redis 7 with volumes and healthchecks, and the host after them', () => {
    expect(compose.services.postgres!.image).toBe('postgres:16');
    expect(compose.services.redis!.image).toBe('redis:7');
    for (const name of ['postgres', 'redis', 'host']) {
      expect(compose.services[name]!.healthcheck?.test, name).toBeDefined();
      expect(compose.services[name]!.volumes?.length, name).toBeGreaterThan(0);
    }
    expect(host.build).toBeDefined();
    expect(host.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
  });

  it('documents every host variable in .env.example', () => {
    const example = readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
    for (const name of CONFIG_ENV_VARIABLES) expect(example, name).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');

  it('is multi-stage and runs as a non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('copies what the host needs at run time', () => {
    for (const folder of ['sdk', 'host', 'drizzle']) expect(dockerfile).toMatch(new RegExp(`^COPY ${folder} `, 'm'));
  });
});
