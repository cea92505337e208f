/**
 * How a `ttlp` command on this machine reaches the running host when it cannot open the embedded
 * database itself (PGlite belongs to one process, see data-dir-lock.ts). The host writes its URL
 * and a token made for this run into `DATA_DIR`, readable by its owner only — whoever can read the
 * file can read the database beside it anyway — and removes the file when it stops. The token
 * lives in the host's memory only (`AccessTokens.issueLocalToken`): it ends with the process, also
 * when a crash leaves the file behind.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isRunning } from '../store/data-dir-lock.ts';

export const LOCAL_ACCESS_FILE = 'host-access.json';

export interface LocalAccess {
  /** The host's process. */
  pid: number;
  /** `http://host:port`, as reachable from this machine. */
  url: string;
  /** A bearer token for the host's API, valid while that process runs. */
  token: string;
}

function readAccess(file: string): LocalAccess | undefined {
  let parsed: Partial<LocalAccess>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalAccess>;
  } catch {
    return undefined;
  }
  const { pid, url, token } = parsed ?? {};
  if (!Number.isSafeInteger(pid) || (pid as number) <= 0 || typeof url !== 'string' || typeof token !== 'string') return undefined;
  return { pid: pid as number, url, token };
}

/** Writes the host's access for local commands; returns what removes it again. */
export function publishLocalAccess(dataDir: string, access: LocalAccess): () => void {
  const file = path.join(dataDir, LOCAL_ACCESS_FILE);
  const draft = `${file}.${access.pid}.tmp`;
  rmSync(draft, { force: true });
  // Written whole, then renamed over whatever a crashed host left: a reader never sees half a file.
  writeFileSync(draft, `${JSON.stringify(access)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(draft, file);
  return () => {
    if (readAccess(file)?.pid === access.pid) rmSync(file, { force: true });
  };
}

/** The access a running host wrote into `dataDir`; undefined when there is none, or its process is gone. */
export function readLocalAccess(dataDir: string): LocalAccess | undefined {
  const access = readAccess(path.join(dataDir, LOCAL_ACCESS_FILE));
  return access && isRunning(access.pid) ? access : undefined;
}
