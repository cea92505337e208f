/**
 * The host's HTTP side for `ttlp start`: the overlay hub and live feed on the bus, the API app,
 * and the listening server. On the first start it issues the admin token (printed once).
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { HostConfig } from '../config.ts';
import type { IngestBoard } from '../ingest/status.ts';
import type { Logger } from '../log.ts';
import { LiveFeed, OverlayHub, overlaySocketRoutes } from '../overlay-hub/index.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import type { PluginHost } from '../plugin-runtime/plugin-host.ts';
import { buildApp } from './app.ts';
import { AccessTokens, type LoginLimiter } from './auth.ts';
import type { HostMetrics } from './metrics.ts';

/** Where `npm run build` puts the settings page and overlays. */
export const OVERLAYS_DIST_DIR = fileURLToPath(new URL('../../../overlays/dist', import.meta.url));

export interface HostServerOptions {
  config: Pick<HostConfig, 'port' | 'host'>;
  pipeline: Pipeline;
  log: Logger;
  metrics: HostMetrics;
  ingest: IngestBoard;
  plugins?: PluginHost;
  overlaysDir?: string;
  loginLimiter?: LoginLimiter;
  pseudonymizationSecret?: string;
}

export class HostServer {
  private constructor(
    readonly app: FastifyInstance,
    readonly hub: OverlayHub,
    readonly feed: LiveFeed,
    readonly tokens: AccessTokens,
    /** `http://host:port` as reachable from this machine. */
    readonly url: string,
    /** The admin token when this start issued it (the first start), else undefined. */
    readonly firstAdminToken: string | undefined,
  ) {}

  static async start(options: HostServerOptions): Promise<HostServer> {
    const { pipeline, log } = options;
    const tokens = new AccessTokens(pipeline.store);
    const firstAdminToken = await tokens.issueFirstAdminToken();
    const hub = new OverlayHub({ bus: pipeline.bus, log: log.child({ component: 'overlay-hub' }), consumer: pipeline.consumer });
    const feed = new LiveFeed({ bus: pipeline.bus, log: log.child({ component: 'live-feed' }), consumer: pipeline.consumer, hub });
    await hub.start();
    await feed.start();
    options.metrics.watchOverlay({ overlayClients: () => hub.connectedClients });
    let app: FastifyInstance | undefined;
    try {
      app = await buildApp({
        store: pipeline.store,
        bus: pipeline.bus,
        log,
        tokens,
        metrics: options.metrics,
        ingest: options.ingest,
        plugins: options.plugins,
        overlaysDir: options.overlaysDir ?? OVERLAYS_DIST_DIR,
        loginLimiter: options.loginLimiter,
        pseudonymizationSecret: options.pseudonymizationSecret,
        sockets: async (instance) => {
          await instance.register(overlaySocketRoutes, { hub, feed, authenticate: (request) => tokens.authenticate(request) });
        },
      });
      const address = await app.listen({ port: options.config.port, host: options.config.host });
      const port = new URL(address).port;
      const shown = ['0.0.0.0', '::'].includes(options.config.host) ? '127.0.0.1' : options.config.host;
      const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
      return new HostServer(app, hub, feed, tokens, url, firstAdminToken);
    } catch (error) {
      await app?.close();
      await feed.close();
      await hub.close();
      throw error;
    }
  }

  /** Stops accepting requests, closes sockets, then stops reading the bus. */
  async close(): Promise<void> {
    await this.hub.close();
    await this.feed.close();
    await this.app.close();
  }

  /** The settings page and each widget's overlay URL, for the start banner. */
  async overlayUrls(widgets: readonly string[]): Promise<Array<{ widget: string; url: string }>> {
    return Promise.all(
      widgets.map(async (widget) => ({ widget, url: `${this.url}/overlay/${widget}?token=${encodeURIComponent((await this.tokens.overlayToken(widget)).token)}` })),
    );
  }
}
