/**
 * vitest's global setup of the browser tests: builds the settings page (`overlays/dist`, which
 * `ttlp start` serves) once, before the first browser test file.
 */
import path from 'node:path';
import { build } from 'vite';
import { repoRoot } from './host-process.ts';

export default async function buildPages(): Promise<void> {
  await build({ root: path.join(repoRoot, 'overlays'), logLevel: 'warn' });
}
