/**
 * A plugin made by `ttlp plugin new --widget` outside this checkout, as an author of a plugin in a
 * repository of their own makes it: `npm install` there (vitest, TypeScript and the widget test's
 * DOM from the npm registry, the SDK linked from this checkout), then `npm test` (the strict type
 * check, then the plugin's test and its widget's test).
 * The install is real, once for the file, so the test needs the npm registry (or npm's cache).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../test/support/captures.ts';
import { endWithTest, runTtlp } from '../../test/support/ttlp-process.ts';

const parent = mkdtempSync(path.join(tmpdir(), 'ttlp-plugin-new-'));
const dir = path.join(parent, 'greeter');
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** The environment of the author's shell: without what npm and vitest set for this test run. */
function authorEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|vitest)/i.test(name)));
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0' };
}

/** Runs a command in the plugin's folder; its exit code and all it printed. */
function inPlugin(command: string, args: string[]): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: dir, env: authorEnv(), stdio: 'pipe' });
    endWithTest(child);
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, text }));
  });
}

describe('ttlp plugin new, outside this checkout', () => {
  it('makes a plugin with a widget that installs from npm, type-checks strictly and passes its tests', async () => {
    const created = await runTtlp(['plugin', 'new', 'greeter', '--widget', '--dir', parent], { cwd: parent, env: authorEnv() });
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`created ${dir}\n`);
    expect(created.stdout).toContain(`  cd ${dir}\n  npm install `);
    expect(created.stdout).toContain(`@ttlp/sdk linked from ${path.join(repoRoot, 'sdk')}\n  npm test `);
    // The host looks for plugins in PLUGINS_DIR, so a plugin elsewhere is named when enabled and run.
    expect(created.stdout).toContain(`  npx ttlp plugin enable greeter --grant-all --plugins-dir ${parent}\n  npx ttlp start --plugins-dir ${parent}\n`);

    const installed = await inPlugin('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline']);
    expect(installed.code, installed.text).toBe(0);
    expect(realpathSync(path.join(dir, 'node_modules/@ttlp/sdk'))).toBe(realpathSync(path.join(repoRoot, 'sdk')));

    const tested = await inPlugin('npm', ['test']);
    // The plugin's test, and its widget's against what the plugin sent.
    expect(tested.text).toMatch(/Test Files\s+2 passed/);
    expect(tested.text).toMatch(/Tests\s+2 passed/);
    expect(tested.code).toBe(0);

    // The type check is strict and reads the SDK's types: an untyped parameter and a misused payload fail it.
    writeFileSync(
      path.join(dir, 'src/wrong.ts'),
      "import type { UnifiedEventOf } from '@ttlp/sdk';\nexport const echo = (value) => value;\nexport const length = (event: UnifiedEventOf<'CHAT'>): number => event.payload.message;\n",
    );
    const typeCheck = await inPlugin(process.execPath, [path.join(dir, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json']);
    expect(typeCheck.text).toContain("src/wrong.ts(2,22): error TS7006: Parameter 'value' implicitly has an 'any' type.");
    expect(typeCheck.text).toContain("src/wrong.ts(3,66): error TS2322: Type 'string' is not assignable to type 'number'.");
    expect(typeCheck.text.trim().split('\n')).toHaveLength(2);
    expect(typeCheck.code).toBe(2);
  });
});
