/**
 * The HTTP API as a fastify app: health and metrics, the admin API under `/api`, the overlay and
 * live-feed WebSockets, and the built overlays and settings page. `buildApp` wires it; the caller
 * listens (tests use `app.inject()`). Every error leaves as `{ code, message, ...details }`.
 */
import cookie from '@fastify/cookie';
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { EventBus } from '../bus/types.ts';
import type { IngestBoard } from '../ingest/status.ts';
import type { Logger } from '../log.ts';
import type { PluginHost } from '../plugins/plugin-host.ts';
import type { Store } from '../store/database.ts';
import { CLIENT_FRAME_MAX_BYTES } from '../overlay/protocol.ts';
import { AccessTokens, LoginLimiter, type Principal } from './auth.ts';
import { AuthForbidden, AuthRequired } from './errors.ts';
import type { HostMetrics } from './metrics.ts';
import { authRoutes } from './routes/auth.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { pluginRoutes } from './routes/plugins.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { staticRoutes } from './static.ts';

/** What the routes work with. */
export interface ApiServices {
  store: Store;
  bus: EventBus;
  log: Logger;
  tokens: AccessTokens;
  metrics: HostMetrics;
  ingest: IngestBoard;
  /** The running plugin host; absent on a host that runs none. */
  plugins?: PluginHost;
  /** Built overlays and settings page (`overlays/dist`); absent = not served. */
  overlaysDir?: string;
  /** Registers the WebSocket routes (the overlay hub's), after auth is set up. */
  sockets?: (app: FastifyInstance) => Promise<void>;
  /** Failed logins per address; tests pass their own. */
  loginLimiter?: LoginLimiter;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: ApiServices;
    /** onRequest hook: admin and API tokens (and settings sessions) only. */
    requireAdmin: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** Request bodies are small JSON documents (settings, test events); anything larger is refused. */
const BODY_LIMIT = 256 * 1024;

export async function buildApp(services: ApiServices): Promise<FastifyInstance> {
  // Typed with fastify's base logger, like the plugins registered on it.
  const app: FastifyInstance = Fastify({
    loggerInstance: services.log.child({ component: 'http' }),
    // Requests are not logged one by one (overlay assets, polling); failures are, by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }) as unknown as FastifyInstance;
  app.decorate('services', services);
  app.decorateRequest('principal', undefined);
  await app.register(cookie);
  await app.register(websocket, { options: { maxPayload: CLIENT_FRAME_MAX_BYTES } });

  app.addHook('onRequest', async (request, reply) => {
    // Overlay URLs carry their token: no page or response may hand it on as a referrer.
    reply.header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff');
    request.principal = await services.tokens.authenticate(request);
  });
  app.decorate('requireAdmin', async (request: FastifyRequest) => {
    if (!request.principal) throw new AuthRequired();
    if (request.principal.kind === 'overlay') throw new AuthForbidden('overlay tokens only open their overlay');
  });

  app.setErrorHandler((error: FastifyError & { details?: Record<string, unknown> }, request: FastifyRequest, reply: FastifyReply) => {
    if (error.validation) {
      return reply.status(400).send({ code: 'INVALID_REQUEST', message: error.message });
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error, method: request.method, url: request.routeOptions.url }, 'request failed');
      return reply.status(500).send({ code: 'INTERNAL', message: 'internal error; the host log has the details' });
    }
    if (status === 429 && typeof error.details?.retryAfter === 'number') reply.header('retry-after', String(error.details.retryAfter));
    return reply.status(status).send({ code: error.code ?? 'INVALID_REQUEST', message: error.message, ...error.details });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  await app.register(healthRoutes);
  await app.register(authRoutes, { prefix: '/api/auth' });
  await app.register(async (admin) => {
    // Before body validation: an anonymous request learns nothing about what a route accepts.
    admin.addHook('onRequest', app.requireAdmin);
    await admin.register(sessionRoutes);
    await admin.register(pluginRoutes);
    await admin.register(eventRoutes);
    await admin.register(tokenRoutes);
  }, { prefix: '/api' });
  if (services.sockets) await services.sockets(app);
  await app.register(staticRoutes);
  return app;
}
