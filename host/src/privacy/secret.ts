/**
 * The pseudonymization secret (D-011): PSEUDONYMIZATION_SECRET when set; otherwise, in embedded
 * mode only, one generated once into the data directory, readable by its owner alone.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const PSEUDONYMIZATION_SECRET_ENV = 'PSEUDONYMIZATION_SECRET';
export const SECRET_FILE_NAME = 'pseudonymization.secret';
/** PRODUCT.md "Storage": the key of the HMAC is at least 32 bytes. */
export const MIN_SECRET_BYTES = 32;
const GENERATED_SECRET_BYTES = 48;
const OWNER_ONLY = 0o600;

export type SecretErrorCode = 'SECRET_TOO_SHORT' | 'SECRET_MISSING';

/** Its message never contains the secret, only where it came from and what is wrong with it. */
export class PseudonymizationSecretError extends Error {
  constructor(
    readonly code: SecretErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PseudonymizationSecretError';
  }
}

export interface SecretSource {
  /** The value of PSEUDONYMIZATION_SECRET; empty counts as not set. */
  envValue?: string;
  dataDir: string;
  /** Embedded mode (PGlite, no DATABASE_URL): the only mode that may generate a secret. */
  embedded: boolean;
}

/** The secret of a host with this configuration: PSEUDONYMIZATION_SECRET, or the embedded data directory's. */
export function configuredSecret(config: { pseudonymizationSecret?: string; dataDir: string; databaseUrl?: string }): Promise<string> {
  return loadPseudonymizationSecret({ envValue: config.pseudonymizationSecret, dataDir: config.dataDir, embedded: !config.databaseUrl });
}

export async function loadPseudonymizationSecret(source: SecretSource): Promise<string> {
  if (source.envValue !== undefined && source.envValue !== '') return checked(source.envValue, PSEUDONYMIZATION_SECRET_ENV);
  if (!source.embedded)
    throw new PseudonymizationSecretError(
      'SECRET_MISSING',
      `${PSEUDONYMIZATION_SECRET_ENV} is not set: with DATABASE_URL the host needs a secret of at least ${MIN_SECRET_BYTES} bytes ` +
        `(e.g. the output of \`openssl rand -base64 48\`), the same on every host and kept across restarts`,
    );
  return secretFromDataDir(source.dataDir);
}

function checked(secret: string, origin: string): string {
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_SECRET_BYTES)
    throw new PseudonymizationSecretError(
      'SECRET_TOO_SHORT',
      `${origin} is too short: ${bytes} bytes, at least ${MIN_SECRET_BYTES} are needed (e.g. the output of \`openssl rand -base64 48\`)`,
    );
  return secret;
}

async function secretFromDataDir(dataDir: string): Promise<string> {
  const file = path.join(dataDir, SECRET_FILE_NAME);
  await mkdir(dataDir, { recursive: true });
  const generated = randomBytes(GENERATED_SECRET_BYTES).toString('base64url');
  try {
    // `wx`: when two processes start at once, the second reads what the first wrote.
    await writeFile(file, `${generated}\n`, { mode: OWNER_ONLY, flag: 'wx' });
    await chmod(file, OWNER_ONLY);
    return generated;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (((await stat(file)).mode & 0o777) !== OWNER_ONLY) await chmod(file, OWNER_ONLY);
  // A trailing newline is what an editor adds; it is not part of the secret.
  return checked((await readFile(file, 'utf8')).replace(/\r?\n$/, ''), file);
}
