/** What the commands that run the pipeline share: configuration, logging, opening and closing. */
import { ConfigError, loadConfig, type ConfigFlags, type HostConfig } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { openStore, type Store } from '../store/database.ts';
import { loadPseudonymizationSecret, PseudonymizationSecretError } from '../privacy/secret.ts';
import { CommandError, EXIT_USAGE } from './errors.ts';

export function configFrom(env: NodeJS.ProcessEnv, flags: ConfigFlags): HostConfig {
  try {
    return loadConfig(env, flags);
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandError(error.message, EXIT_USAGE);
    throw error;
  }
}

export function loggerFor(config: HostConfig, destination?: NodeJS.WritableStream): Logger {
  const pretty = config.logFormat === 'auto' ? undefined : config.logFormat === 'pretty';
  return createLogger({ level: config.logLevel, pretty, destination });
}

/** An unreachable database, or an embedded one in use, as a clear command error; anything else as it was. */
function storeCommandError(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  return code === 'STORE_UNREACHABLE' || code === 'STORE_IN_USE' ? new CommandError((error as Error).message) : error;
}

/** Opens the pipeline; store failures a user can act on become command errors. */
export async function openPipeline(config: HostConfig, log: Logger): Promise<Pipeline> {
  return Pipeline.open(config, log).catch((error: unknown) => {
    throw storeCommandError(error);
  });
}

/** Opens only the store (commands that need no bus), with the same errors as `openPipeline`. */
export async function openCommandStore(config: HostConfig): Promise<Store> {
  return openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }).catch((error: unknown) => {
    throw storeCommandError(error);
  });
}

/** The pseudonymization secret (D-011); a missing or short one is a configuration error. */
export async function pseudonymizationSecret(config: HostConfig): Promise<string> {
  try {
    return await loadPseudonymizationSecret({ envValue: config.pseudonymizationSecret, dataDir: config.dataDir, embedded: !config.databaseUrl });
  } catch (error) {
    if (error instanceof PseudonymizationSecretError) throw new CommandError(error.message, EXIT_USAGE);
    throw error;
  }
}
