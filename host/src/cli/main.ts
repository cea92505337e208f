/**
 * The `ttlp` command line: parses arguments and calls the modules that do the work.
 * Command modules load only when their command runs, so `--help` answers quickly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { LOG_FORMATS, LOG_LEVELS } from '../log.ts';
import { errorSummary } from '../error-summary.ts';
import { CommandError, EXIT_FAILURE, EXIT_USAGE } from './errors.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuid(value: string): string {
  if (!UUID.test(value)) throw new InvalidArgumentError('must be a UUID such as 3b241101-e2bb-4255-8caf-4136c566a962');
  return value.toLowerCase();
}

function roomId(value: string): string {
  if (!/^[0-9]{1,20}$/.test(value)) throw new InvalidArgumentError('must be a numeric TikTok room id');
  return value;
}

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0) || !Number.isFinite(parsed)) throw new InvalidArgumentError('must be a positive number');
  return parsed;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

const BACKENDS_HELP = `
Storage and bus: the embedded PGlite database in DATA_DIR and an in-process bus by default;
DATABASE_URL=postgres://… and REDIS_URL=redis://… switch to PostgreSQL and Redis Streams.`;

/** Options of every command that opens the pipeline's storage and bus. */
function withBackendOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'where the embedded database keeps its files (env DATA_DIR, default ./data)')
    .addOption(new Option('--log-level <level>', 'log level for messages on stderr (env LOG_LEVEL, default info)').choices(LOG_LEVELS))
    .addHelpText('after', BACKENDS_HELP);
}

function withSummary(command: Command): Command {
  return command.option('--json', 'print the summary as one JSON object on the last line of stdout');
}

const printSummary = (text: string) => process.stdout.write(`${text}\n`);

/** Runs a command with a signal that aborts on Ctrl+C / SIGTERM, after reading .env. */
async function withStopSignal(command: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    loadDotEnv();
    await command(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

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
    .addOption(new Option('--provider <provider>', 'how to follow users: the connector directly, or Euler Stream\'s relay (env TIKTOK_PROVIDER, default direct)').choices(['direct', 'euler']))
    .option('--tiktok-url <url>', 'TikTok\'s web and webcast hosts, for `ttlp fake-tiktok` or a mirror: http://host:port (env TIKTOK_URL)')
    .option('--record <file>', 'also write every live message to this capture v1 file ({user} in the name: one file per user)')
    .option('--proxy <url>', 'HTTP(S) proxy for TikTok, the sign server and the relay (env TIKTOK_PROXY)')
    .option('--live-poll-interval <seconds>', 'how often to check whether an offline user went live (env LIVE_POLL_INTERVAL, default 30)')
    .option('--demo-rate <n>', 'demo messages per second (env DEMO_RATE, default 4)')
    .option('--demo-seed <n>', 'seed for a repeatable demo session (env DEMO_SEED)')
    .addOption(new Option('--log-level <level>', 'log level (env LOG_LEVEL, default info)').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'log format (env LOG_FORMAT, default auto: pretty on a terminal)').choices(LOG_FORMATS))
    .option('--debug', 'keep error stacks in ERROR events and logs (env TTLP_DEBUG)')
    .option('--data-dir <dir>', 'where the embedded database keeps its files (env DATA_DIR, default ./data)')
    .option('--no-ingest', 'run only the pipeline stages, no provider (extra hosts sharing Redis and PostgreSQL)')
    .option('--plugins-dir <dir>', 'folder of installed plugins (env PLUGINS_DIR, default ./data/plugins)')
    .option('--dev', 'reload a running plugin when its files change (its kv is kept), and list plugin folders as they come and go')
    .option('--port <n>', 'port of the settings page, overlays and API (env PORT, default 8787; 0 = any free port)')
    .option('--host <address>', 'address to listen on (env HOST, default 127.0.0.1; 0.0.0.0 for other machines)')
    .addHelpText('after', `${BACKENDS_HELP}\n${LIVE_HELP}`)
    .action(async (flags) =>
      withStopSignal(async (signal) => {
        const { runStart } = await import('./start-command.ts');
        run(await runStart(flags, { env: process.env, signal }));
      }),
    );

  withSummary(
    withBackendOptions(
      program
        .command('import')
        .description('run a capture v1 file through the whole pipeline as a new session and print a summary')
        .argument('<capture>', 'capture v1 NDJSON file')
        .option('--stream-id <roomId>', 'room id of the stream (default: the room most capture messages belong to)', roomId),
    ),
  ).action(async (file, options) =>
    withStopSignal(async (signal) => {
      const { runImport, formatImportSummary } = await import('./import-command.ts');
      const summary = await runImport(file, options, { env: process.env, signal });
      printSummary(options.json ? JSON.stringify(summary) : formatImportSummary(summary));
      run(0);
    }),
  );

  withSummary(
    withBackendOptions(
      program
        .command('replay')
        .description('re-publish a stored session as a new session (source "replay", new eventIds, original order)')
        .argument('<sessionId>', 'id of the stored session', uuid)
        .option('--speed <n>', 'pace by the original timing, N times as fast (default: as fast as possible)', positiveNumber),
    ),
  ).action(async (sessionId, options) =>
    withStopSignal(async (signal) => {
      const { runReplay, formatReplaySummary } = await import('./replay-command.ts');
      const summary = await runReplay(sessionId, options, { env: process.env, signal });
      printSummary(options.json ? JSON.stringify(summary) : formatReplaySummary(summary));
      run(0);
    }),
  );

  program
    .command('health')
    .description('check that the configured storage and bus are reachable; prints JSON, exits 1 when not')
    .option('--data-dir <dir>', 'the embedded database folder to check (env DATA_DIR, default ./data)')
    .addHelpText('after', BACKENDS_HELP)
    .action(async (options) => {
      loadDotEnv();
      const { runHealth } = await import('./health-command.ts');
      const report = await runHealth(options, process.env);
      process.stdout.write(`${JSON.stringify(report)}\n`);
      run(report.ok ? 0 : EXIT_FAILURE);
    });

  const gdpr = program.command('gdpr').description("privacy requests: erase a viewer's data");
  withSummary(
    withBackendOptions(
      gdpr
        .command('erase')
        .description("pseudonymize one TikTok user everywhere (ids and handle hashed, name, avatar and own chat messages removed), in one transaction, with an audit row")
        .option('--user-id <id>', 'the TikTok user id')
        .option('--unique-id <handle>', 'the @handle, with or without @'),
    ),
  ).action(async (options) => {
    loadDotEnv();
    const { runGdprErase, formatErasure } = await import('./gdpr-command.ts');
    const summary = await runGdprErase(options, process.env);
    printSummary(options.json ? JSON.stringify(summary) : formatErasure(summary));
    run(0);
  });

  withSummary(
    withBackendOptions(
      program
        .command('prune')
        .description('apply the retention policy once (the host does daily): archive and delete old events, old actions log rows, empty sessions; pseudonymize users not seen for long')
        .option('--dry-run', 'count what would change, change nothing'),
    ),
  ).action(async (options) => {
    loadDotEnv();
    const { runPrune } = await import('./prune-command.ts');
    const { describePrune } = await import('../privacy/retention.ts');
    const summary = await runPrune(options, process.env);
    printSummary(options.json ? JSON.stringify(summary) : describePrune(summary));
    run(0);
  });

  withBackendOptions(
    program
      .command('admin-token')
      .description('replace the admin token (the old one and every settings-page session stop working); prints the new one')
      .option('--reset', 'make the new token (required: the old one cannot be shown again)'),
  ).action(async (options) => {
    loadDotEnv();
    const { runAdminTokenReset } = await import('./admin-token-command.ts');
    process.stdout.write(`${await runAdminTokenReset(options, process.env)}\n`);
    run(0);
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

  program
    .command('fake-tiktok')
    .description('a local fake TikTok that plays a capture to the real connector (for tests, demos and plugin development)')
    .requiredOption('--capture <file>', 'capture v1 NDJSON file to play')
    .option('--port <n>', 'port to listen on (default 8788; 0 = any free port)', '8788')
    .option('--host <address>', 'address to listen on (default 127.0.0.1)', '127.0.0.1')
    .option('--speed <n>', 'pace by the capture\'s timing, N times as fast (default 1)', positiveNumber, 1)
    .option('--fast', 'send as fast as the client takes it instead of pacing')
    .option('--loop', 'start over when the capture ends (new message ids) instead of ending the stream')
    .option('--offline-for <seconds>', 'users are offline for this long after the start, then go live', nonNegativeNumber)
    .option('--rate-limit <requests>', 'answer the first N sign requests with 429', wholeNumber)
    .option('--retry-after <seconds>', 'retry-after of those 429 answers (default 1)', wholeNumber, 1)
    .option('--drop-after <messages>', 'cut each room\'s socket abruptly once, after N messages', wholeNumber)
    .addHelpText('after', FAKE_TIKTOK_HELP)
    .action(async (options) =>
      withStopSignal(async (signal) => {
        const { runFakeTikTok } = await import('./fake-tiktok-command.ts');
        run(await runFakeTikTok(options, { signal }));
      }),
    );

  addPluginCommands(program, run);
  return program;
}

function nonNegativeNumber(value: string): number {
  const parsed = Number(value);
  if (!(parsed >= 0) || !Number.isFinite(parsed)) throw new InvalidArgumentError('must be a number ≥ 0');
  return parsed;
}

function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return parsed;
}

const LIVE_HELP = `Following live users: the direct provider uses tiktok-live-connector (signed by Euler
Stream's sign server; EULER_API_KEY raises its limits); --provider euler uses Euler Stream's
relay and needs EULER_API_KEY. Keys and TikTok session cookies are read from the environment
or .env only, never from flags. A connection that drops is retried (1 s doubling to 60 s,
±20 % jitter; RECONNECT_MAX_ATTEMPTS limits it); an offline user is checked every
--live-poll-interval seconds. Every connection is a new session.
Example against a local fake:
  ttlp fake-tiktok --capture capture.ndjson          (in one terminal)
  ttlp start --user @fake --tiktok-url http://127.0.0.1:8788`;

const FAKE_TIKTOK_HELP = `
It serves the room page, room info, the sign server's connect endpoint and the webcast
WebSocket, and plays the capture as gzip protobuf push frames; heartbeats and acks are
answered. Every user name gets its own room. When the capture ends the stream ends (a
control message), unless --loop. Run the host against it with:
  ttlp start --user @anyone --tiktok-url http://127.0.0.1:8788
Control it while it runs (POST; user=<name> where a room is meant):
  /__fake/drop  /__fake/end?user=  /__fake/offline?user=  /__fake/live?user=
  /__fake/rate-limit?requests=N&retryAfter=S      GET /__fake/status`;

const RUNNING_HOST_HELP = `
While a host on this machine runs on the embedded database (the same DATA_DIR), the command
goes through that host's HTTP API, which applies a change at once, on the plugins that host
found (its PLUGINS_DIR, not --plugins-dir). The host leaves its URL and a token valid while it
runs in DATA_DIR/host-access.json. Otherwise the command works on the database; hosts on the
same PostgreSQL apply a change within 5 s.`;

const PLUGINS_HELP = `
Plugins are found in the repository's plugins/ and in PLUGINS_DIR (default ./data/plugins).
While a host on this machine runs on the embedded database (the same DATA_DIR), list, grant,
enable, disable and config go through that host's HTTP API, which applies a change at once.
Otherwise they work on the database; hosts on the same PostgreSQL apply a change within 5 s.`;

function addPluginCommands(program: Command, run: (code: number) => void): void {
  const plugin = program.command('plugin').description('list, grant, enable, disable, configure and create plugins').addHelpText('after', PLUGINS_HELP);
  const withPluginOptions = (command: Command) =>
    withBackendOptions(command).option('--plugins-dir <dir>', 'folder of installed plugins (env PLUGINS_DIR, default ./data/plugins)').addHelpText('after', RUNNING_HOST_HELP);

  withPluginOptions(plugin.command('list').description('the plugins found, their state and permissions, and the limits they run within'))
    .option('--json', 'print the list as JSON')
    .action(async (options) => {
      loadDotEnv();
      const { runPluginList, formatPluginList } = await import('./plugin-command.ts');
      const entries = await runPluginList(options, process.env);
      printSummary(options.json ? JSON.stringify(entries) : formatPluginList(entries));
      run(0);
    });

  withPluginOptions(
    plugin
      .command('grant')
      .description('grant permissions a plugin requests (events:<TYPE>, overlay:<channel>, http:<url glob>, kv)')
      .argument('<id>', 'plugin id')
      .argument('[permissions...]', 'permissions to grant')
      .option('--all', 'grant every permission the plugin requests'),
  ).action(async (id, permissions, options) => {
    loadDotEnv();
    const { runPluginGrant } = await import('./plugin-command.ts');
    const granted = await runPluginGrant(id, permissions, options, process.env);
    printSummary(`${id}: granted ${granted.join(', ') || 'nothing'}`);
    run(0);
  });

  withPluginOptions(
    plugin
      .command('enable')
      .description('enable a plugin (every permission it requests must be granted)')
      .argument('<id>', 'plugin id')
      .option('--grant-all', 'grant every permission it requests first'),
  ).action(async (id, options) => {
    loadDotEnv();
    const { runPluginEnable } = await import('./plugin-command.ts');
    const failure = await runPluginEnable(id, options, process.env);
    printSummary(`${id}: enabled`);
    // The running host started it at once, and its setup failed.
    if (failure) process.stderr.write(`ttlp: ${id} is not running: ${failure}\n`);
    run(0);
  });

  withPluginOptions(plugin.command('disable').description('disable a plugin').argument('<id>', 'plugin id')).action(async (id, options) => {
    loadDotEnv();
    const { runPluginDisable } = await import('./plugin-command.ts');
    await runPluginDisable(id, options, process.env);
    printSummary(`${id}: disabled`);
    run(0);
  });

  withPluginOptions(
    plugin
      .command('config')
      .description("print a plugin's settings; --set or --file replaces them (checked against its schema)")
      .argument('<id>', 'plugin id')
      .option('--set <json>', 'new settings as JSON')
      .option('--file <path>', 'new settings from a JSON file'),
  ).action(async (id, options) => {
    loadDotEnv();
    const { runPluginConfig } = await import('./plugin-command.ts');
    printSummary(JSON.stringify(await runPluginConfig(id, options, process.env), null, 2));
    run(0);
  });

  plugin
    .command('new')
    .description('create a plugin folder with its manifest, entry and a passing test')
    .argument('<id>', 'plugin id: lower-case letters, digits and dashes')
    .option('--dir <dir>', 'parent folder (default: PLUGINS_DIR, ./data/plugins)')
    .option('--widget', 'also an overlay widget that shows what the plugin sends, with its test')
    .action(async (id, options) => {
      loadDotEnv();
      const { scaffoldPlugin, nextSteps } = await import('./new-plugin.ts');
      const pluginsDir = process.env.PLUGINS_DIR ?? './data/plugins';
      const dir = scaffoldPlugin(id, options.dir ?? pluginsDir, { widget: options.widget === true });
      printSummary(nextSteps(id, dir, pluginsDir));
      run(0);
    });
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
    if (error instanceof CommandError) {
      process.stderr.write(`ttlp: ${error.message}\n`);
      return error.exitCode;
    }
    // One line, never the query and parameters a database error quotes (they can hold viewers' data).
    process.stderr.write(`ttlp: ${errorSummary(error)}\n`);
    if (['1', 'true', 'yes', 'on'].includes(String(process.env.TTLP_DEBUG).toLowerCase()) && error instanceof Error && error.stack) process.stderr.write(`${error.stack.split('\n').slice(1).join('\n')}\n`);
    return EXIT_FAILURE;
  }
}
