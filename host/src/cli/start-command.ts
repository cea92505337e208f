/**
 * `ttlp start`: runs the host. With no TikTok user the demo provider feeds the pipeline,
 * so a newcomer sees events flow (and get stored) at once.
 */
import type { UnifiedEvent } from '@ttlp/sdk';
import { pluginLimits, type ConfigFlags } from '../config.ts';
import type { Logger } from '../log.ts';
import { DemoProvider } from '../ingest/demo.ts';
import { describeEvent } from '../normalize/describe.ts';
import { redactUrl } from '../store/database.ts';
import { countEvents } from '../store/sessions.ts';
import { PluginHost } from '../plugins/plugin-host.ts';
import { EXIT_USAGE } from './errors.ts';
import { pluginRoots } from './plugin-command.ts';
import { configFrom, loggerFor, openPipeline } from './pipeline-command.ts';

export interface StartFlags extends ConfigFlags {
  /** Reload plugins when their files change. */
  dev?: boolean;
  /** false with --no-ingest: run only the pipeline stages (extra hosts sharing Redis and PostgreSQL). */
  ingest?: boolean;
}

export interface StartContext {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  stdout?: NodeJS.WritableStream;
}

function logStored(log: Logger) {
  return (events: UnifiedEvent[]) => {
    for (const event of events)
      log.info({ eventType: event.eventType, eventId: event.eventId, userId: event.user.userId }, `${event.eventType.padEnd(12)} ${describeEvent(event)}`);
  };
}

/** How long a stopping host waits for what it received to be stored. */
const DRAIN_TIMEOUT_MS = 10_000;

const waitForAbort = (signal: AbortSignal) =>
  new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

export async function runStart(flags: StartFlags, context: StartContext): Promise<number> {
  const config = configFrom(context.env, flags);
  const log = loggerFor(config, context.stdout);
  if (config.tiktokUsers.length > 0 && flags.ingest !== false) {
    log.error(
      { users: config.tiktokUsers },
      'following a live TikTok user needs the direct provider, which this version does not include yet; run without --user / TIKTOK_USERNAME to start the demo',
    );
    return EXIT_USAGE;
  }
  const pipeline = await openPipeline(config, log);
  let plugins: PluginHost | undefined;
  try {
    pipeline.startStages({ onStored: logStored(log) });
    plugins = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log, roots: pluginRoots(config), limits: pluginLimits(config) });
    await plugins.start(pipeline.consumer, { maxDeliveries: config.busMaxDeliveries, claimIdleMs: config.busClaimIdleMs });
    if (flags.dev) {
      plugins.watch();
      log.info('development mode: running plugins reload when their files change');
    }
    const available = plugins.available.map((plugin) => plugin.manifest.id);
    log.info(
      { running: [...plugins.loaded.keys()], available },
      `plugins running: ${[...plugins.loaded.keys()].join(', ') || 'none'} (found: ${available.join(', ') || 'none'}; enable with "ttlp plugin enable <id> --grant-all")`,
    );
    const backends = `storage ${pipeline.store.driver} (${pipeline.store.location}), bus ${pipeline.bus.kind}${config.redisUrl ? ` (${redactUrl(config.redisUrl)})` : ''}`;
    if (flags.ingest === false) {
      log.info({ consumer: pipeline.consumer }, `ttlp host started without ingest (pipeline stages only): ${backends}; press Ctrl+C to stop`);
      await waitForAbort(context.signal);
    } else {
      const provider = new DemoProvider({ seed: config.demoSeed, rate: config.demoRate });
      log.info(
        { provider: provider.name, sessionId: provider.sessionId, streamId: provider.streamId, rate: config.demoRate },
        `ttlp host started with the demo provider (no TikTok user given): room ${provider.streamId}, session ${provider.sessionId}; ${backends}; press Ctrl+C to stop`,
      );
      const published = await pipeline.ingest(provider, { type: 'live', provider: provider.name, meta: { seed: provider.seed } }, { signal: context.signal });
      // What was received is stored before the host goes (the in-process bus keeps nothing across a restart).
      await pipeline
        .waitForStored(published.lastId, { signal: AbortSignal.timeout(DRAIN_TIMEOUT_MS) })
        .catch(() => log.warn(`stopping before everything received was stored (waited ${DRAIN_TIMEOUT_MS / 1000} s)`));
      const stored = await countEvents(pipeline.store, provider.sessionId);
      log.info({ sessionId: provider.sessionId, received: published.published, stored }, `session ${provider.sessionId}: ${published.published} received, ${stored} stored`);
    }
  } finally {
    await plugins?.close();
    await pipeline.close();
  }
  log.info('ttlp host stopped');
  return 0;
}
