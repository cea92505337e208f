/** The plugin in docs/plugin-guide.md, as printed there, builds and passes the test printed there. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { repoRoot } from '../../test/support/captures.ts';

mkdirSync(path.join(repoRoot, 'data'), { recursive: true });
const dir = mkdtempSync(path.join(repoRoot, 'data', 'plugin-guide-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The code block that follows "`file`:" in the guide. */
function blockAfter(guide: string, file: string): string {
  const start = guide.indexOf(`\`${file}\`:`);
  if (start < 0) throw new Error(`the guide does not name ${file}`);
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(guide.slice(start));
  if (!match) throw new Error(`no code block after ${file}`);
  return match[1]!;
}

it('builds the guide’s plugin and passes the guide’s test', async () => {
  const guide = readFileSync(path.join(repoRoot, 'docs/plugin-guide.md'), 'utf8');
  const files = {
    'package.json': blockAfter(guide, 'package.json'),
    'src/index.ts': blockAfter(guide, 'src/index.ts'),
    'test/top-chatter.test.ts': blockAfter(guide, 'test/top-chatter.test.ts'),
    'vitest.config.ts': "import { defineConfig } from 'vitest/config';\nexport default defineConfig({ test: { pool: 'forks', execArgv: ['--no-node-snapshot'] } });\n",
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const vitest = path.join(repoRoot, 'node_modules/vitest/vitest.mjs');
  const output = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [vitest, 'run', '--root', dir], { env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: 'pipe' });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, text }));
  });
  expect(output.text).toMatch(/Tests\s+2 passed/);
  expect(output.code).toBe(0);
});
