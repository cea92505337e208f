/**
 * The `ttlp` command line: parses arguments and calls the modules that do the work.
 * Command modules load only when their command runs, so `--help` answers quickly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { LOG_FORMATS, LOG_LEVELS } from '../log.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Exit code for misuse: bad flags or configuration. */
const EXIT_USAGE = 2;

function uuid(value: string): string {
  if (!UUID.test(value)) throw new InvalidArgumentError('must be a UUID such as 3b241101-e2bb-4255-8caf-4136c566a962');
  return value.toLowerCase();
}

function roomId(value: string): string {
  if (!/^[0-9]{1,20}$/.test(value)) throw new InvalidArgumentError('must be a numeric TikTok room id');
  return value;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A `.env` file in the working directory fills in variables the environment does not set. */
function loadDotEnv(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
}

function buildProgram(run: (code: number) => void): Command {
  const program = new Command('ttlp')
    .description('tiktok-live-platform: a self-hosted stream-overlay and plugin host for TikTok LIVE')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('start')
    .description('run the host; with no TikTok user it runs the demo provider')
    .option('-u, --user <name>', 'TikTok user to follow, with or without @ (repeatable; env TIKTOK_USERNAME)', collect)
    .option('--demo-rate <n>', 'demo messages per second (env DEMO_RATE, default 4)')
    .option('--demo-seed <n>', 'seed for a repeatable demo session (env DEMO_SEED)')
    .addOption(new Option('--log-level <level>', 'log level (env LOG_LEVEL, default info)').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'log format (env LOG_FORMAT, default auto: pretty on a terminal)').choices(LOG_FORMATS))
    .option('--debug', 'keep error stacks in ERROR events and logs (env TTLP_DEBUG)')
    .action(async (flags) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        loadDotEnv();
        const { runStart } = await import('./start-command.ts');
        run(await runStart(flags, { env: process.env, signal: controller.signal }));
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });

  program
    .command('normalize')
    .description('read capture v1 or raw.v1 NDJSON on stdin, write one UnifiedEvent JSON per line on stdout')
    .option('--session-id <uuid>', 'session id of the events (default: a new one)', uuid)
    .option('--stream-id <roomId>', 'room id of the stream (default: the room most capture messages belong to)', roomId)
    .addOption(new Option('--source <source>', 'event source').choices(['live', 'replay']).default('live'))
    .option('--stats', 'print counts per eventType to stderr at the end')
    .option('--keep-going', 'report rejected lines and go on (exit 0); without it the first rejected line stops the run with exit 1')
    .option('--debug', 'keep error stacks in ERROR events')
    .addHelpText(
      'after',
      '\nRejected lines go to stderr as "line N: CODE message".\nExample:\n  cat capture.ndjson | ttlp normalize --stats > events.ndjson',
    )
    .action(async (options) => {
      const { runNormalize } = await import('./normalize-command.ts');
      run(await runNormalize(options, { input: process.stdin, output: process.stdout, errors: process.stderr }));
    });

  return program;
}

/** A closed pipe (`ttlp normalize | head`) ends the command quietly, as Unix tools do. */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}

export async function main(argv: string[]): Promise<number> {
  exitQuietlyOnClosedPipe(process.stdout);
  let code = 0;
  const program = buildProgram((result) => {
    code = result;
  });
  try {
    if (argv.length <= 2) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    throw error;
  }
}
