/**
 * The host as `ttlp start` runs it, wired in one place. `createHost` opens the pipeline (store,
 * bus, normalizer and storage writer), the plugin host, retention, the overlay hub, live feed and
 * stream counters, and the HTTP server, in that order; `run` feeds the pipeline through the ingest
 * supervisor until it is told to stop; `close` stops retention, the hub, the feed, the counters,
 * the server, the plugins and the pipeline, in that order.
 */
import type { UnifiedEvent } from '@ttlp/sdk';
import { AccessTokens } from './api/auth.ts';
import { publishLocalAccess } from './api/local-access.ts';
import { HostServer, OVERLAYS_DIST_DIR } from './api/server.ts';
import { pluginLimits, retentionPolicy, type HostConfig } from './config.ts';
import { IngestBoard } from './ingest/status.ts';
import { IngestSupervisor, recordingFiles, type IngestEnd } from './ingest/supervisor.ts';
import type { Logger } from './log.ts';
import { HostMetrics } from './metrics/host-metrics.ts';
import { describeEvent } from './normalize/describe.ts';
import { HOST_WIDGETS, LiveFeed, OverlayHub, startCounters, type HostCounters } from './overlay-hub/index.ts';
import { WidgetCatalog } from './plugin-widgets/catalog.ts';
import { widgetPaths } from './plugin-widgets/page.ts';
import { Pipeline } from './pipeline/pipeline.ts';
import { pluginRoots } from './plugin-runtime/discovery.ts';
import { PluginHost } from './plugin-runtime/plugin-host.ts';
import { pseudonymizerFor } from './privacy/pseudonymize.ts';
import { RetentionSchedule } from './privacy/retention.ts';
import { configuredSecret } from './privacy/secret.ts';
import { redactUrl } from './store/database.ts';

export interface HostOptions {
  log: Logger;
  /** Reload a running plugin when its files change, and list plugin folders as they appear and go (`--dev`). */
  dev?: boolean;
  /** false: feed nothing, run only the pipeline stages (`--no-ingest`). Default true. */
  ingest?: boolean;
  /** Also write every live message to this capture v1 file; `{user}` in it makes one file per user (`--record`). */
  record?: string;
  /** The built settings page and overlays; default `overlays/dist`. */
  overlaysDir?: string;
}

/** How soon a change to a plugin made elsewhere (another host, `ttlp plugin`) applies here. */
const PLUGIN_CHANGES_POLL_MS = 5_000;

/** What a host runs; all but the pipeline and retention are absent until they are open. */
interface HostParts {
  pipeline: Pipeline;
  retention: RetentionSchedule;
  plugins?: PluginHost;
  hub?: OverlayHub;
  feed?: LiveFeed;
  counters?: HostCounters;
  server?: HostServer;
  /** Removes what tells local `ttlp` commands how to reach this host (embedded database only). */
  localAccess?: () => void;
}

async function closeParts(parts: HostParts): Promise<void> {
  // First: a command started from now on finds no host, and opens the database once it is free.
  parts.localAccess?.();
  await parts.retention.stop();
  // Sockets first (clients are told the host is going away), then the server, then the bus readers.
  await parts.hub?.close();
  await parts.feed?.close();
  await parts.counters?.close();
  await parts.server?.close();
  await parts.plugins?.close();
  await parts.pipeline.close();
}

/** A running host, as `createHost` opens it. */
export class Host {
  constructor(
    private readonly parts: Required<HostParts>,
    private readonly supervisor: IngestSupervisor,
    private readonly log: Logger,
    readonly tokens: AccessTokens,
    /** The admin token when this start issued it (the first start), else undefined. */
    readonly firstAdminToken: string | undefined,
  ) {}

  get pipeline(): Pipeline {
    return this.parts.pipeline;
  }

  get plugins(): PluginHost {
    return this.parts.plugins;
  }

  /** `http://host:port` as reachable from this machine. */
  get url(): string {
    return this.parts.server.url;
  }

  /** Each widget's overlay URL (with its token), for the start banner: the host's, then the running plugins'. */
  async overlayUrls(): Promise<Array<{ widget: string; url: string; size: { width: number; height: number } }>> {
    return Promise.all(
      new WidgetCatalog(this.parts.plugins, HOST_WIDGETS).list().map(async (widget) => ({
        widget: widget.name,
        url: `${this.url}${widgetPaths(widget).page}?token=${encodeURIComponent((await this.tokens.overlayToken(widget.name)).token)}`,
        size: widget.size,
      })),
    );
  }

  /** Feeds the pipeline until `signal` aborts, or until every followed user is given up. */
  async run(signal: AbortSignal): Promise<IngestEnd> {
    const end = await this.supervisor.run(signal);
    // Every provider gave up (RECONNECT_MAX_ATTEMPTS, a refused API key): whatever supervises the host should see it.
    if (end === 'gave-up') this.log.error('stopped following every user; the host stops');
    return end;
  }

  async close(): Promise<void> {
    await closeParts(this.parts);
  }
}

function logStored(log: Logger, metrics: HostMetrics) {
  return (events: UnifiedEvent[]) => {
    for (const event of events) {
      metrics.stored.inc({ type: event.eventType });
      log.info({ eventType: event.eventType, eventId: event.eventId, userId: event.user.userId }, `${event.eventType.padEnd(12)} ${describeEvent(event)}`);
    }
  };
}

/**
 * Opens everything a host runs but its ingest, which `run` starts. A part that fails to open
 * closes the ones before it; the error is the part's own (a port in use: code `EADDRINUSE`; a
 * store, secret or recording problem: their errors).
 */
export async function createHost(config: HostConfig, options: HostOptions): Promise<Host> {
  const { log } = options;
  // Checked before anything starts: both are configuration errors.
  const recordings = options.record === undefined ? [] : recordingFiles(options.record, config.tiktokUsers);
  const secret = await configuredSecret(config);
  const pipeline = await Pipeline.open(config, log);
  const parts: HostParts = { pipeline, retention: new RetentionSchedule() };
  try {
    const metrics = new HostMetrics(pipeline.bus);
    pipeline.startStages({
      onStored: logStored(log, metrics),
      onRejected: (rejected) => {
        for (const letter of rejected) metrics.rejected.inc({ code: letter.reason });
      },
    });
    const limits = pluginLimits(config);
    const plugins = await PluginHost.open({
      store: pipeline.store,
      bus: pipeline.bus,
      log,
      roots: pluginRoots(config),
      limits,
      maxLagEvents: config.pluginMaxLagEvents,
      observer: metrics.pluginObserver(),
    });
    parts.plugins = plugins;
    await plugins.start(pipeline.consumer, { maxDeliveries: config.busMaxDeliveries, claimIdleMs: config.busClaimIdleMs });
    plugins.followStore(PLUGIN_CHANGES_POLL_MS);
    if (options.dev) {
      plugins.watch();
      log.info('development mode: plugins reload when their files change; new plugin folders are listed as they appear');
    }
    const available = plugins.available.map((plugin) => plugin.manifest.id);
    log.info(
      { running: [...plugins.loaded.keys()], available },
      `plugins running: ${[...plugins.loaded.keys()].join(', ') || 'none'} (found: ${available.join(', ') || 'none'}; switch them on in the settings page, or with "ttlp plugin enable <id> --grant-all")`,
    );
    parts.retention.start({ store: pipeline.store, policy: retentionPolicy(config), log: log.child({ component: 'retention' }), pseudonymize: pseudonymizerFor(secret) });

    const tokens = new AccessTokens(pipeline.store);
    const firstAdminToken = await tokens.issueFirstAdminToken();
    const hub = new OverlayHub({ bus: pipeline.bus, log: log.child({ component: 'overlay-hub' }), consumer: pipeline.consumer });
    parts.hub = hub;
    const feed = new LiveFeed({ bus: pipeline.bus, log: log.child({ component: 'live-feed' }), consumer: pipeline.consumer });
    parts.feed = feed;
    await hub.start();
    await feed.start();
    parts.counters = await startCounters({ bus: pipeline.bus, log: log.child({ component: 'counters' }), consumer: pipeline.consumer, hub });
    metrics.watchOverlay({ overlayClients: () => hub.connectedClients });

    const board = new IngestBoard();
    const server = await HostServer.start(
      {
        store: pipeline.store,
        bus: pipeline.bus,
        log,
        tokens,
        metrics,
        ingest: board,
        plugins,
        pluginLimits: limits,
        overlaysDir: options.overlaysDir ?? OVERLAYS_DIST_DIR,
        pseudonymizationSecret: secret,
        sockets: { hub, feed },
      },
      config,
    );
    parts.server = server;
    // The embedded database is this process's alone: `ttlp plugin …` on this machine comes through the API instead.
    if (pipeline.store.driver === 'pglite') parts.localAccess = publishLocalAccess(config.dataDir, { pid: process.pid, url: server.url, token: tokens.issueLocalToken() });
    const backends = `storage ${pipeline.store.driver} (${pipeline.store.location}), bus ${pipeline.bus.kind}${config.redisUrl ? ` (${redactUrl(config.redisUrl)})` : ''}`;
    const supervisor = new IngestSupervisor({ config, pipeline, log, metrics, board, enabled: options.ingest !== false, recordings, backends });
    return new Host(
      { pipeline, retention: parts.retention, plugins, hub, feed, counters: parts.counters, server, localAccess: parts.localAccess ?? (() => undefined) },
      supervisor,
      log,
      tokens,
      firstAdminToken,
    );
  } catch (error) {
    await closeParts(parts);
    throw error;
  }
}
