/**
 * The host's HTTP server: the API app (app.ts) over the host's services, listening on
 * `HOST`:`PORT`, and the URL it is reached at from this machine.
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { HostConfig } from '../config.ts';
import { buildApp, type ApiServices } from './app.ts';

/** Where `npm run build` puts the settings page and overlays. */
export const OVERLAYS_DIST_DIR = fileURLToPath(new URL('../../../overlays/dist', import.meta.url));

export class HostServer {
  private constructor(
    readonly app: FastifyInstance,
    /** `http://host:port` as reachable from this machine. */
    readonly url: string,
  ) {}

  /** Builds the app and listens; a port in use rejects with the listen error (code `EADDRINUSE`). */
  static async start(services: ApiServices, config: Pick<HostConfig, 'port' | 'host'>): Promise<HostServer> {
    const app = await buildApp(services);
    try {
      const address = await app.listen({ port: config.port, host: config.host });
      const port = new URL(address).port;
      const shown = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host;
      return new HostServer(app, `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`);
    } catch (error) {
      await app.close();
      throw error;
    }
  }

  /** Stops accepting requests and closes the connections it holds. */
  async close(): Promise<void> {
    await this.app.close();
  }
}
