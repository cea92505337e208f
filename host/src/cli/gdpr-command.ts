/**
 * `ttlp gdpr erase --user-id ID | --unique-id HANDLE`: pseudonymizes one TikTok user everywhere
 * (D-011), in one transaction, with an audit row that holds no plaintext identifier.
 */
import type { ConfigFlags } from '../config.ts';
import { ErasureError, eraseUser, type ErasureSummary } from '../privacy/erasure.ts';
import { CommandError, EXIT_FAILURE, EXIT_USAGE } from './errors.ts';
import { configFrom, openCommandStore, pseudonymizationSecret } from './pipeline-command.ts';

export interface EraseOptions extends ConfigFlags {
  userId?: string;
  uniqueId?: string;
}

export async function runGdprErase(options: EraseOptions, env: NodeJS.ProcessEnv): Promise<ErasureSummary> {
  if (Boolean(options.userId) === Boolean(options.uniqueId)) throw new CommandError('give exactly one of --user-id and --unique-id', EXIT_USAGE);
  const config = configFrom(env, options);
  const secret = await pseudonymizationSecret(config);
  const store = await openCommandStore(config);
  try {
    return await eraseUser(store, secret, { userId: options.userId, uniqueId: options.uniqueId });
  } catch (error) {
    if (error instanceof ErasureError)
      // Nobody found, or a handle several people had (erase by id then): a valid request that failed.
      throw new CommandError(error.message, error.code === 'ERASURE_SUBJECT_INVALID' ? EXIT_USAGE : EXIT_FAILURE);
    throw error;
  } finally {
    await store.close();
  }
}

export function formatErasure(summary: ErasureSummary): string {
  if (summary.alreadyErased) return `already erased (nothing left to change); audit ${summary.subjectHmac.slice(0, 12)}… at ${summary.timestamp}`;
  return `erased: ${summary.rowsAffected} rows in ${summary.tablesTouched.join(', ') || 'no table'}; audit ${summary.subjectHmac.slice(0, 12)}… at ${summary.timestamp}`;
}
