/** `ttlp` run as a user runs it: a real process, its output and exit code. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './captures.ts';

export const TTLP_BIN = path.join(repoRoot, 'host/bin/ttlp.js');

export interface TtlpRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runTtlp(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<TtlpRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', TTLP_BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
