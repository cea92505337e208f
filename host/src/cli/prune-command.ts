/**
 * `ttlp prune [--dry-run]`: one run of the retention policy (the host also runs it daily) —
 * archive old events, delete archived ones and old actions log rows, drop empty sessions and
 * streams, pseudonymize users not seen for a long time.
 */
import { retentionPolicy, type ConfigFlags } from '../config.ts';
import { pseudonymizerFor } from '../privacy/pseudonymize.ts';
import { prune, type PruneSummary } from '../privacy/retention.ts';
import { configFrom, openCommandStore, pseudonymizationSecret } from './pipeline-command.ts';

export async function runPrune(options: { dryRun?: boolean } & ConfigFlags, env: NodeJS.ProcessEnv): Promise<PruneSummary> {
  const config = configFrom(env, options);
  const secret = await pseudonymizationSecret(config);
  const store = await openCommandStore(config);
  try {
    return await prune(store, retentionPolicy(config), { now: new Date(), dryRun: options.dryRun === true, pseudonymize: pseudonymizerFor(secret) });
  } finally {
    await store.close();
  }
}
