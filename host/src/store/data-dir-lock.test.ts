import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDataDir } from './data-dir-lock.ts';
import { openStore } from './database.ts';

const freshDir = () => mkdtempSync(path.join(tmpdir(), 'ttlp-lock-'));

describe('the embedded database folder lock', () => {
  it('keeps a second opener out until the first closes', async () => {
    const dataDir = freshDir();
    const first = await openStore({ dataDir });
    await expect(openStore({ dataDir })).rejects.toMatchObject({
      code: 'STORE_IN_USE',
      message: expect.stringContaining(`in use by another ttlp process (pid ${process.pid})`),
    });
    await first.close();
    expect(existsSync(path.join(dataDir, 'pglite', LOCK_FILE))).toBe(false);
    const second = await openStore({ dataDir });
    await second.close();
  });

  it('refuses a folder locked by another running process', () => {
    const location = freshDir();
    writeFileSync(path.join(location, LOCK_FILE), String(process.ppid));
    expect(() => lockDataDir(location)).toThrow(`(pid ${process.ppid})`);
  });

  it('takes over a lock left by a process that is gone', () => {
    const location = freshDir();
    mkdirSync(location, { recursive: true });
    writeFileSync(path.join(location, LOCK_FILE), '2147483646');
    const release = lockDataDir(location);
    expect(readFileSync(path.join(location, LOCK_FILE), 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(path.join(location, LOCK_FILE))).toBe(false);
  });
});
