/** `ttlp` run as a user runs it: a real process, its output and exit code. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { onTestFinished, TestRunner } from 'vitest';
import { repoRoot } from './captures.ts';

export const TTLP_BIN = path.join(repoRoot, 'host/bin/ttlp.js');

export interface TtlpRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Kills `child` when the test that started it ends, and waits for it to exit: a test that failed
 * or timed out must not leave a process writing to the data the next test reads.
 */
export function endWithTest(child: ChildProcess): void {
  if (!TestRunner.getCurrentTest()) return;
  const ended = new Promise((resolve) => child.once('close', resolve).once('error', resolve));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await ended;
  });
}

export function runTtlp(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<TtlpRun> {
  const child = spawn(process.execPath, ['--no-node-snapshot', TTLP_BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const run = new Promise<TtlpRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  endWithTest(child);
  child.stdin.end(options.input ?? '');
  return run;
}
