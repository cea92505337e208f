/** What the commands that run the pipeline share: configuration, logging, opening and closing. */
import { ConfigError, loadConfig, type ConfigFlags, type HostConfig } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { openStore, type Store } from '../store/database.ts';
import { configuredSecret, PseudonymizationSecretError } from '../privacy/secret.ts';
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

/**
 * Failures a user can act on as clear command errors: an unreachable database or an embedded one
 * in use, a missing or short pseudonymization secret (configuration: a usage error). Anything
 * else as it was.
 */
export function commandErrorOf(error: unknown): unknown {
  if (error instanceof PseudonymizationSecretError) return new CommandError(error.message, EXIT_USAGE);
  const code = (error as { code?: unknown }).code;
  return code === 'STORE_UNREACHABLE' || code === 'STORE_IN_USE' ? new CommandError((error as Error).message) : error;
}

/** Opens the pipeline; store failures a user can act on become command errors. */
export async function openPipeline(config: HostConfig, log: Logger): Promise<Pipeline> {
  return Pipeline.open(config, log).catch((error: unknown) => {
    throw commandErrorOf(error);
  });
}

/** Opens only the store (commands that need no bus), with the same errors as `openPipeline`. */
export async function openCommandStore(config: HostConfig): Promise<Store> {
  return openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }).catch((error: unknown) => {
    throw commandErrorOf(error);
  });
}

/** The pseudonymization secret (D-011); a missing or short one is a configuration error. */
export async function pseudonymizationSecret(config: HostConfig): Promise<string> {
  return configuredSecret(config).catch((error: unknown) => {
    throw commandErrorOf(error);
  });
}
