/**
 * A real `ttlp start` for the security tests: a child process whose stdout (JSON log lines) and
 * stderr are kept whole, with the URLs and tokens of its one-time start banner.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './captures.ts';
import { HANG_MS } from './patience.ts';
import { endWithTest } from './ttlp-process.ts';

const bin = path.join(repoRoot, 'host/bin/ttlp.js');

/**
 * The start banner exactly as start-command.ts prints it: settings URL, the admin token (first
 * start) with its note or the reminder, and one line per overlay URL.
 */
export const BANNER = /\n {2}Settings page: {2}(\S+)\n {2}Admin token: {4}(\S+)[^\n]*\n(?: {18}[^\n]*\n)? {2}Overlays \(OBS[^\n]*\n((?: {4}\S+ +\S+[^\n]*\n)+) {2}Each plugin you enable[^\n]*\n/g;

export interface HostProcess {
  url: string;
  adminToken: string | undefined;
  overlayUrls: Record<string, string>;
  /** Everything the process wrote so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export async function startHost(options: { args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<HostProcess> {
  const cwd = mkdtempSync(path.join(tmpdir(), 'ttlp-security-'));
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--no-node-snapshot', bin, 'start', '--port', '0', '--log-format', 'json', '--data-dir', path.join(cwd, 'data'), ...(options.args ?? [])],
    { cwd, env: { ...process.env, ...options.env }, stdio: 'pipe' },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  endWithTest(child);

  const banner = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start banner within ${HANG_MS} ms\nstderr: ${stderr}\nstdout: ${stdout.slice(-2000)}`)), HANG_MS);
    const look = () => {
      BANNER.lastIndex = 0;
      const match = BANNER.exec(stderr);
      // The banner is complete once its last line is in.
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stderr.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`ttlp start exited with ${code} before its banner\nstderr: ${stderr}\nstdout: ${stdout.slice(-2000)}`));
    });
  }).catch((error: unknown) => {
    // A host that never started must not outlive the test (or hook) that waited for it.
    child.kill('SIGKILL');
    throw error;
  });
  const overlayUrls = Object.fromEntries([...banner[3]!.matchAll(/ {4}(\S+) +(\S+)[^\n]*\n/g)].map((line) => [line[1]!, line[2]!]));
  return {
    url: banner[1]!.replace(/\/$/, ''),
    adminToken: banner[2]!.startsWith('ttlp_admin_') ? banner[2] : undefined,
    overlayUrls,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
