/**
 * `ttlp start` as a user runs it, for browser tests: a child process on a fixed port (so a
 * restart keeps the URLs an open page uses), its banner read for the settings URL, the admin
 * token and the overlay URLs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HANG_MS } from '../../host/test/support/patience.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(repoRoot, 'host/bin/ttlp.js');

export interface Banner {
  settingsUrl: string;
  /** Only on the first start. */
  adminToken?: string;
  overlays: Record<string, string>;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class HostProcess {
  private child: ChildProcess | undefined;
  output = '';

  constructor(private readonly options: { port: number; dataDir: string; env?: NodeJS.ProcessEnv }) {}

  /** Starts the host without ingest (test events only) and resolves with its banner. */
  async start(): Promise<Banner> {
    const child = spawn(
      process.execPath,
      ['--no-node-snapshot', bin, 'start', '--no-ingest', '--port', String(this.options.port), '--data-dir', this.options.dataDir, '--log-format', 'json'],
      { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'info', ...this.options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let stderr = '';
    child.stdout!.on('data', (chunk) => (this.output += chunk));
    return new Promise<Banner>((resolve, reject) => {
      // A host that hangs is killed, and the start fails once it is gone: the next start has the port and the data folder to itself.
      let hung = false;
      const timer = setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, HANG_MS);
      child.once('exit', (code) =>
        reject(new Error(`${hung ? `the host did not start within ${HANG_MS} ms` : `the host exited with ${code}`}:\n${stderr}\n${this.output}`)),
      );
      child.stderr!.on('data', (chunk) => {
        stderr += chunk;
        this.output += chunk;
        // The banner's last line.
        if (!/Each plugin you enable .*\n/.test(stderr)) return;
        clearTimeout(timer);
        const overlays: Record<string, string> = {};
        for (const match of stderr.matchAll(/^ {4}([a-z0-9/-]+) +(http\S+)/gm)) overlays[match[1]!] = match[2]!;
        resolve({
          settingsUrl: /Settings page: +(http\S+)/.exec(stderr)![1]!,
          adminToken: /Admin token: +(ttlp_admin_\S+)/.exec(stderr)?.[1],
          overlays,
        });
      });
    });
  }

  /** Started and not exited (an exit by a signal leaves exitCode null). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Ctrl+C, as a user stops it; resolves with the exit code. A host still up after HANG_MS is killed and fails the stop. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || !this.running) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    const killIfHung = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    const code = await exited;
    clearTimeout(killIfHung);
    if (child.signalCode === 'SIGKILL') throw new Error(`the host did not stop within ${HANG_MS} ms:\n${this.output}`);
    return code;
  }
}
