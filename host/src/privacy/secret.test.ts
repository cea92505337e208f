import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDataDir } from '../../test/support/database.ts';
import { MIN_SECRET_BYTES, SECRET_FILE_NAME, loadPseudonymizationSecret } from './secret.ts';

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('loadPseudonymizationSecret', () => {
  let dir: Awaited<ReturnType<typeof createTestDataDir>>;

  beforeEach(async () => {
    dir = await createTestDataDir();
  });

  afterEach(async () => {
    await dir.remove();
  });

  it('takes PSEUDONYMIZATION_SECRET as it is, in both modes, and writes no file', async () => {
    const secret = 'x'.repeat(MIN_SECRET_BYTES);
    expect(await loadPseudonymizationSecret({ envValue: secret, dataDir: dir.dataDir, embedded: false })).toBe(secret);
    expect(await loadPseudonymizationSecret({ envValue: secret, dataDir: dir.dataDir, embedded: true })).toBe(secret);
    expect(() => statSync(path.join(dir.dataDir, SECRET_FILE_NAME))).toThrow();
  });

  it('counts UTF-8 bytes, not characters', async () => {
    const euros = '€'.repeat(11); // 33 bytes in 11 characters
    expect(await loadPseudonymizationSecret({ envValue: euros, dataDir: dir.dataDir, embedded: false })).toBe(euros);
  });

  it('refuses a short secret with SECRET_TOO_SHORT and never shows it', async () => {
    const short = 'hunter2-is-not-a-secret';
    const failure = loadPseudonymizationSecret({ envValue: short, dataDir: dir.dataDir, embedded: true });
    await expect(failure).rejects.toMatchObject({ code: 'SECRET_TOO_SHORT', message: expect.stringContaining('PSEUDONYMIZATION_SECRET') });
    await expect(failure).rejects.toSatisfy((error: Error) => !error.message.includes(short));
  });

  it('without a secret in production, fails with SECRET_MISSING naming the variable', async () => {
    await expect(loadPseudonymizationSecret({ dataDir: dir.dataDir, embedded: false })).rejects.toMatchObject({
      code: 'SECRET_MISSING',
      message: expect.stringContaining('set'),
    });
    await expect(loadPseudonymizationSecret({ envValue: '', dataDir: dir.dataDir, embedded: false })).rejects.toMatchObject({
      code: 'SECRET_MISSING',
      message: expect.stringContaining('PSEUDONYMIZATION_SECRET'),
    });
  });

  it('in embedded mode generates 48 random bytes once, into a 0600 file, creating the directory', async () => {
    const dataDir = path.join(dir.dataDir, 'nested', 'data');
    const secret = await loadPseudonymizationSecret({ dataDir, embedded: true });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(48);
    const file = path.join(dataDir, SECRET_FILE_NAME);
    expect(modeOf(file)).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(secret);

    expect(await loadPseudonymizationSecret({ dataDir, embedded: true })).toBe(secret);
    const other = await createTestDataDir();
    try {
      expect(await loadPseudonymizationSecret({ dataDir: other.dataDir, embedded: true })).not.toBe(secret);
    } finally {
      await other.remove();
    }
  });

  it('tightens an existing secret file readable by others to 0600 and keeps its secret', async () => {
    const file = path.join(dir.dataDir, SECRET_FILE_NAME);
    const secret = 'a-secret-someone-wrote-by-hand-0123456789';
    writeFileSync(file, `${secret}\n`);
    chmodSync(file, 0o644);
    expect(await loadPseudonymizationSecret({ dataDir: dir.dataDir, embedded: true })).toBe(secret);
    expect(modeOf(file)).toBe(0o600);
  });

  it('refuses a secret file that is too short, naming the file', async () => {
    mkdirSync(dir.dataDir, { recursive: true });
    const file = path.join(dir.dataDir, SECRET_FILE_NAME);
    writeFileSync(file, 'short\n', { mode: 0o600 });
    await expect(loadPseudonymizationSecret({ dataDir: dir.dataDir, embedded: true })).rejects.toMatchObject({
      code: 'SECRET_TOO_SHORT',
      message: expect.stringContaining(file),
    });
  });
});
