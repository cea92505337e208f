import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_ACCESS_FILE, publishLocalAccess, readLocalAccess } from './local-access.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'ttlp-access-'));
const file = path.join(dataDir, LOCAL_ACCESS_FILE);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** A pid no process has: one past the largest Linux allows. */
const GONE_PID = 4_194_305;

describe('the local access a host publishes', () => {
  it("is readable by its owner only, read while its process runs, and removed by that host alone", () => {
    const access = { pid: process.pid, url: 'http://127.0.0.1:8787', token: 'ttlp_api_x' };
    const remove = publishLocalAccess(dataDir, access);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readLocalAccess(dataDir)).toEqual(access);

    // Another host took the folder over since: the first one's removal leaves its file alone.
    writeFileSync(file, JSON.stringify({ ...access, pid: process.ppid }));
    remove();
    expect(existsSync(file)).toBe(true);
    publishLocalAccess(dataDir, access)();
    expect(existsSync(file)).toBe(false);
  });

  it('is ignored when its process is gone (a crash left it) or it does not read', () => {
    writeFileSync(file, JSON.stringify({ pid: GONE_PID, url: 'http://127.0.0.1:8787', token: 'ttlp_api_x' }));
    expect(readLocalAccess(dataDir)).toBeUndefined();
    writeFileSync(file, '{"pid": 1, "url": ');
    expect(readLocalAccess(dataDir)).toBeUndefined();
    rmSync(file);
    expect(readLocalAccess(dataDir)).toBeUndefined();
  });
});
