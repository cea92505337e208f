/**
 * `ttlp start`: runs the host — pipeline, plugins, overlay hub, HTTP API, settings page and
 * overlays. With no TikTok user the demo provider feeds the pipeline, so a newcomer sees events
 * flow (and overlays move) at once.
 */
import type { UnifiedEvent } from '@ttlp/sdk';
import { pluginLimits, retentionPolicy, type ConfigFlags } from '../config.ts';
import type { Logger } from '../log.ts';
import { DemoProvider } from '../ingest/demo.ts';
import { describeEvent } from '../normalize/describe.ts';
import { redactUrl } from '../store/database.ts';
import { countEvents } from '../store/sessions.ts';
import { PluginHost } from '../plugin-runtime/plugin-host.ts';
import { HostMetrics } from '../api/metrics.ts';
import { HostServer } from '../api/server.ts';
import { IngestBoard } from '../ingest/status.ts';
import { OVERLAY_WIDGETS } from '../overlay-hub/protocol.ts';
import { CommandError, EXIT_FAILURE, EXIT_USAGE } from './errors.ts';
import { pluginRoots } from './plugin-command.ts';
import { configFrom, loggerFor, openPipeline, pseudonymizationSecret } from './pipeline-command.ts';
import { pseudonymizerFor } from '../privacy/pseudonymize.ts';
import { RetentionSchedule } from '../privacy/retention.ts';
import { followLiveUsers, recordingPath } from './live-ingest.ts';
import { ingestUntilStopped } from './host-ingest.ts';

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

function logStored(log: Logger, metrics: HostMetrics) {
  return (events: UnifiedEvent[]) => {
    for (const event of events) {
      metrics.stored.inc({ type: event.eventType });
      log.info({ eventType: event.eventType, eventId: event.eventId, userId: event.user.userId }, `${event.eventType.padEnd(12)} ${describeEvent(event)}`);
    }
  };
}

/** Where to click: the settings page, the admin token on the first start, each overlay's URL. */
async function banner(server: HostServer): Promise<string> {
  const overlays = await server.overlayUrls(OVERLAY_WIDGETS);
  const width = Math.max(...overlays.map((entry) => entry.widget.length));
  return [
    '',
    `  Settings page:  ${server.url}/`,
    server.firstAdminToken
      ? `  Admin token:    ${server.firstAdminToken}\n                  (shown this once: log in to the settings page with it; "ttlp admin-token --reset" makes a new one)`
      : '  Admin token:    the one shown at the first start ("ttlp admin-token --reset" makes a new one)',
    '  Overlays (OBS browser sources, 1920×1080):',
    ...overlays.map((entry) => `    ${entry.widget.padEnd(width)}  ${entry.url}`),
    '',
  ].join('\n');
}

/** How soon a change to a plugin made elsewhere (another host, `ttlp plugin`) applies here. */
const PLUGIN_CHANGES_POLL_MS = 5_000;

const waitForAbort = (signal: AbortSignal) =>
  new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

export async function runStart(flags: StartFlags, context: StartContext): Promise<number> {
  const config = configFrom(context.env, flags);
  const log = loggerFor(config, context.stdout);
  if (flags.record !== undefined && config.tiktokUsers.length === 0)
    throw new CommandError('--record needs a TikTok user to follow (--user or TIKTOK_USERNAME)', EXIT_USAGE);
  if (flags.record !== undefined && flags.ingest === false) throw new CommandError('--record and --no-ingest exclude each other', EXIT_USAGE);
  if (flags.record !== undefined) recordingPath(flags.record, config.tiktokUsers[0] ?? '', config.tiktokUsers.length);
  // Checked before anything starts: a missing or short secret is a configuration error.
  const secret = await pseudonymizationSecret(config);
  const pipeline = await openPipeline(config, log);
  const metrics = new HostMetrics(pipeline.bus);
  const retention = new RetentionSchedule();
  const ingest = new IngestBoard();
  let plugins: PluginHost | undefined;
  let server: HostServer | undefined;
  let exitCode = 0;
  try {
    pipeline.startStages({
      onStored: logStored(log, metrics),
      onRejected: (rejected) => {
        for (const letter of rejected) metrics.rejected.inc({ code: letter.reason });
      },
    });
    plugins = await PluginHost.open({
      store: pipeline.store,
      bus: pipeline.bus,
      log,
      roots: pluginRoots(config),
      limits: pluginLimits(config),
      observer: metrics.pluginObserver(),
    });
    await plugins.start(pipeline.consumer, { maxDeliveries: config.busMaxDeliveries, claimIdleMs: config.busClaimIdleMs });
    plugins.followStore(PLUGIN_CHANGES_POLL_MS);
    if (flags.dev) {
      plugins.watch();
      log.info('development mode: running plugins reload when their files change');
    }
    const available = plugins.available.map((plugin) => plugin.manifest.id);
    log.info(
      { running: [...plugins.loaded.keys()], available },
      `plugins running: ${[...plugins.loaded.keys()].join(', ') || 'none'} (found: ${available.join(', ') || 'none'}; switch them on in the settings page, or with "ttlp plugin enable <id> --grant-all")`,
    );
    retention.start({ store: pipeline.store, policy: retentionPolicy(config), log: log.child({ component: 'retention' }), pseudonymize: pseudonymizerFor(secret) });
    server = await HostServer.start({ config, pipeline, log, metrics, ingest, plugins, pseudonymizationSecret: secret }).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 'EADDRINUSE')
        throw new CommandError(`port ${config.port} on ${config.host} is in use; pick another with --port or PORT (0 = any free port)`, EXIT_USAGE);
      throw error;
    });
    // Not a log line: it holds tokens. With JSON logs it goes to stderr, so stdout stays JSON.
    const bannerTo = config.logFormat === 'json' ? (context.stderr ?? process.stderr) : (context.stdout ?? process.stdout);
    bannerTo.write(`${await banner(server)}\n`);
    const backends = `storage ${pipeline.store.driver} (${pipeline.store.location}), bus ${pipeline.bus.kind}${config.redisUrl ? ` (${redactUrl(config.redisUrl)})` : ''}`;
    if (flags.ingest === false) {
      log.info({ consumer: pipeline.consumer }, `ttlp host started without ingest (pipeline stages only): ${backends}; press Ctrl+C to stop`);
      await waitForAbort(context.signal);
    } else if (config.tiktokUsers.length > 0) {
      log.info(`ttlp host started: ${backends}`);
      await followLiveUsers({ config, pipeline, log, metrics, board: ingest, signal: context.signal, record: flags.record });
      // Every provider gave up (RECONNECT_MAX_ATTEMPTS, a refused API key): a supervisor should see it.
      if (!context.signal.aborted) {
        log.error('stopped following every user; the host stops');
        exitCode = EXIT_FAILURE;
      }
    } else {
      const provider = new DemoProvider({ seed: config.demoSeed, rate: config.demoRate });
      const status = ingest.add({ name: provider.name, user: null, streamId: provider.streamId, sessionId: provider.sessionId, state: 'connected' });
      log.info(
        { provider: provider.name, sessionId: provider.sessionId, streamId: provider.streamId, rate: config.demoRate },
        `ttlp host started with the demo provider (no TikTok user given): room ${provider.streamId}, session ${provider.sessionId}; ${backends}; press Ctrl+C to stop`,
      );
      const published = await ingestUntilStopped(
        pipeline,
        provider,
        { type: 'live', provider: provider.name, meta: { seed: provider.seed } },
        { signal: context.signal, metrics, log, status },
      );
      const stored = await countEvents(pipeline.store, provider.sessionId);
      log.info({ sessionId: provider.sessionId, received: published.published, stored }, `session ${provider.sessionId}: ${published.published} received, ${stored} stored`);
    }
  } finally {
    await retention.stop();
    await server?.close();
    await plugins?.close();
    await pipeline.close();
  }
  log.info('ttlp host stopped');
  return exitCode;
}
