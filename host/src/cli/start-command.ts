/**
 * `ttlp start`: runs the host (host.ts) — pipeline, plugins, overlay hub, HTTP API, settings page
 * and overlays. With no TikTok user the demo provider feeds the pipeline, so a newcomer sees
 * events flow (and overlays move) at once.
 */
import type { ConfigFlags, HostConfig } from '../config.ts';
import { createHost, type Host } from '../host.ts';
import { RecordingError } from '../ingest/supervisor.ts';
import { CommandError, EXIT_FAILURE, EXIT_USAGE } from './errors.ts';
import { commandErrorOf, configFrom, loggerFor } from './pipeline-command.ts';

export interface StartFlags extends ConfigFlags {
  /** Reload plugins when their files change. */
  dev?: boolean;
  /** false with --no-ingest: run only the pipeline stages (extra hosts sharing Redis and PostgreSQL). */
  ingest?: boolean;
  /** Record every live message to this capture v1 file (`{user}` in it: one file per user). */
  record?: string;
}

export interface StartContext {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** Where to click: the settings page, the admin token on the first start, each overlay's URL. */
async function banner(host: Host): Promise<string> {
  const overlays = await host.overlayUrls();
  const width = Math.max(...overlays.map((entry) => entry.widget.length));
  return [
    '',
    `  Settings page:  ${host.url}/`,
    host.firstAdminToken
      ? `  Admin token:    ${host.firstAdminToken}\n                  (shown this once: log in to the settings page with it; "ttlp admin-token --reset" makes a new one)`
      : '  Admin token:    the one shown at the first start ("ttlp admin-token --reset" makes a new one)',
    '  Overlays (OBS browser sources, 1920×1080 unless one says otherwise):',
    ...overlays.map((entry) => {
      const size = entry.size.width !== 1920 || entry.size.height !== 1080 ? `  (${entry.size.width}×${entry.size.height})` : '';
      return `    ${entry.widget.padEnd(width)}  ${entry.url}${size}`;
    }),
    '  Each plugin you enable in the settings page adds its widgets (alerts, chat…) to its Overlays panel.',
    '',
  ].join('\n');
}

/** A host that cannot start or record, as the command error a user can act on. */
function startError(config: HostConfig) {
  return (error: unknown): never => {
    if ((error as { code?: unknown }).code === 'EADDRINUSE')
      throw new CommandError(`port ${config.port} on ${config.host} is in use; pick another with --port or PORT (0 = any free port)`, EXIT_USAGE);
    if (error instanceof RecordingError) throw new CommandError(error.message, EXIT_USAGE);
    throw commandErrorOf(error);
  };
}

export async function runStart(flags: StartFlags, context: StartContext): Promise<number> {
  const config = configFrom(context.env, flags);
  const log = loggerFor(config, context.stdout);
  if (flags.record !== undefined && config.tiktokUsers.length === 0)
    throw new CommandError('--record needs a TikTok user to follow (--user or TIKTOK_USERNAME)', EXIT_USAGE);
  if (flags.record !== undefined && flags.ingest === false) throw new CommandError('--record and --no-ingest exclude each other', EXIT_USAGE);
  const host = await createHost(config, { log, dev: flags.dev, ingest: flags.ingest, record: flags.record }).catch(startError(config));
  let exitCode = 0;
  try {
    // Not a log line: it holds tokens. With JSON logs it goes to stderr, so stdout stays JSON.
    const bannerTo = config.logFormat === 'json' ? (context.stderr ?? process.stderr) : (context.stdout ?? process.stdout);
    bannerTo.write(`${await banner(host)}\n`);
    if ((await host.run(context.signal).catch(startError(config))) === 'gave-up') exitCode = EXIT_FAILURE;
  } finally {
    await host.close();
  }
  log.info('ttlp host stopped');
  return exitCode;
}
