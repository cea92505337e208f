/** The one logger: pino, pretty-printed for people at a terminal, JSON lines otherwise. */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

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
    ? pretty({ destination, sync: true, colorize: destination === process.stdout && process.stdout.isTTY === true, ignore: 'pid,hostname' })
    : destination;
  return pino({ level: options.level, base: undefined }, stream);
}
