/**
 * PGlite is one process's database: two processes writing the same data folder corrupt it.
 * A lock file with the owner's pid keeps a second `ttlp` out, with a message that says why.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'ttlp.lock';

export class DataDirInUseError extends Error {
  readonly code = 'STORE_IN_USE';
  constructor(
    readonly location: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database in ${location} is in use by another ttlp process (pid ${pid}); ` +
        'stop that process, or set DATABASE_URL (and REDIS_URL) so several processes can share PostgreSQL',
    );
    this.name = 'DataDirInUseError';
  }
}

/** True while process `pid` exists (also one of another user). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the folder's lock (taking over one left by a process that is gone); returns its release. */
export function lockDataDir(location: string): () => void {
  const file = path.join(location, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        if (ownerOf(file) === process.pid) rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = ownerOf(file);
      if (owner !== undefined && owner !== process.pid && isRunning(owner)) throw new DataDirInUseError(location, owner);
      if (owner === process.pid) throw new DataDirInUseError(location, owner);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock ${location}`);
}
