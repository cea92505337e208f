/**
 * The one logger: pino. JSON lines for machines; for people at a terminal, one readable
 * line per entry (the message carries what matters, the structured fields stay in JSON).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Human-readable lines instead of JSON; default: when stdout is a terminal. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const wantPretty = options.pretty ?? (destination === process.stdout && process.stdout.isTTY === true);
  const stream = wantPretty
    ? pretty({ destination, sync: true, colorize: destination === process.stdout && process.stdout.isTTY === true, ignore: 'pid,hostname', hideObject: true })
    : destination;
  return pino({ level: options.level, base: undefined }, stream);
}
