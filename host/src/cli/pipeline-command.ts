/** What the commands that run the pipeline share: configuration, logging, opening and closing. */
import { ConfigError, loadConfig, type ConfigFlags, type HostConfig } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
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

/** Opens the pipeline; an unreachable database, or an embedded one in use, becomes a clear command error. */
export async function openPipeline(config: HostConfig, log: Logger): Promise<Pipeline> {
  try {
    return await Pipeline.open(config, log);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'STORE_UNREACHABLE' || code === 'STORE_IN_USE') throw new CommandError((error as Error).message);
    throw error;
  }
}
