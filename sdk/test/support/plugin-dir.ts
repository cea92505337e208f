/** Plugin folders written on the fly for sandbox tests. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A folder with a package.json (manifest merged over a default) and `index.ts` = `source`. */
export function writePlugin(source: string, manifest: Record<string, unknown> = {}, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ttlp-plugin-'));
  made.push(dir);
  const ttlp = {
    id: 'test-plugin',
    displayName: 'Test plugin',
    version: '1.0.0',
    entry: 'index.ts',
    permissions: { events: ['*'], kv: true },
    overlayChannels: ['main'],
    ...manifest,
  };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: ttlp.id, private: true, type: 'module', ttlp }, null, 2));
  writeFileSync(path.join(dir, 'index.ts'), source);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
