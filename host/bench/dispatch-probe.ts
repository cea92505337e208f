/** A plugin that subscribes to every event and does nothing: what dispatch costs the host. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function writeDispatchProbe(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ttlp-bench-plugin-'));
  writeFileSync(
    path.join(dir, 'index.ts'),
    "import { definePlugin } from '@ttlp/sdk';\nexport default definePlugin({ setup(ctx) { ctx.on('*', () => {}); } });\n",
  );
  return dir;
}
