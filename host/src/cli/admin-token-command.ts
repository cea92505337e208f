/**
 * `ttlp admin-token --reset`: a new admin token when the first one is lost. The old one and every
 * settings-page session stop working. The embedded database must not be in use by a running host.
 */
import type { ConfigFlags } from '../config.ts';
import { AccessTokens } from '../api/auth.ts';
import { CommandError, EXIT_USAGE } from './errors.ts';
import { configFrom, openCommandStore } from './pipeline-command.ts';

export async function runAdminTokenReset(options: { reset?: boolean } & ConfigFlags, env: NodeJS.ProcessEnv): Promise<string> {
  if (!options.reset) throw new CommandError('the admin token is only shown once; "ttlp admin-token --reset" replaces it with a new one', EXIT_USAGE);
  const store = await openCommandStore(configFrom(env, options));
  try {
    return await new AccessTokens(store).resetAdminToken();
  } finally {
    await store.close();
  }
}
