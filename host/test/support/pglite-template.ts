/**
 * One migrated PGlite cluster per test run, copied into each embedded test store: creating a
 * cluster (initdb, then every migration) costs seconds of CPU, copying one a fraction of a second.
 * Opening a store on a fresh directory stays covered by the store's own tests.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';
import { openStore } from '../../src/store/database.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

/** vitest's global setup: makes the cluster before the first test file, deletes it after the last. */
export default async function makePgliteTemplate(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ttlp-pglite-template-'));
  const store = await openStore({ dataDir });
  await store.close();
  project.provide('pgliteTemplate', store.location);
  return () => rm(dataDir, { recursive: true, force: true });
}

/**
 * A copy of the run's migrated cluster where `openStore({ dataDir })` looks for it. Outside a test
 * run (`npm run bench` uses the same back-ends) there is none: the store makes its own.
 */
export async function copyPgliteTemplate(dataDir: string): Promise<void> {
  if (!process.env.VITEST) return;
  await cp(inject('pgliteTemplate'), path.join(dataDir, 'pglite'), { recursive: true });
}
