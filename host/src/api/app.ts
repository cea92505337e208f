/**
 * The HTTP API as a fastify app: health and metrics, the admin API under `/api`, the overlay and
 * live-feed WebSockets, and the built overlays and settings page. `buildApp` wires it; the caller
 * listens (tests use `app.inject()`). Every error leaves as `{ code, message, ...details }`.
 */
import cookie from '@fastify/cookie';
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { storableProblem } from '@ttlp/sdk';
import type { SandboxLimits } from '@ttlp/sdk/sandbox';
import type { EventBus } from '../bus/types.ts';
import { errorSummary } from '../error-summary.ts';
import type { IngestBoard } from '../ingest/status.ts';
import type { Logger } from '../log.ts';
import type { PluginHost } from '../plugin-runtime/plugin-host.ts';
import type { Store } from '../store/database.ts';
import type { HostMetrics } from '../metrics/host-metrics.ts';
import { CLIENT_FRAME_MAX_BYTES, overlaySocketRoutes, type LiveFeed, type OverlayHub } from '../overlay-hub/index.ts';
import { AccessTokens, authentication, LoginLimiter } from './auth.ts';
import { InvalidRequest } from './errors.ts';
import { authRoutes } from './routes/auth.ts';
import { eventRoutes } from './routes/events.ts';
import { gdprRoutes } from './routes/gdpr.ts';
import { healthRoutes } from './routes/health.ts';
import { pluginRoutes } from './routes/plugins.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { staticRoutes } from './static.ts';
import { WidgetCatalog } from '../plugin-widgets/catalog.ts';
import { pluginWidgetRoutes } from '../plugin-widgets/routes.ts';
import { HOST_WIDGETS } from '../overlay-hub/host-widgets.ts';

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
  /** The sandbox limits the plugin host runs plugins with (the defaults where absent), shown as each plugin's quotas. */
  pluginLimits?: Partial<SandboxLimits>;
  /** Built overlays and settings page (`overlays/dist`); absent = not served. */
  overlaysDir?: string;
  /** The overlay hub and live feed whose WebSocket routes the app serves; absent = no sockets. */
  sockets?: { hub: OverlayHub; feed: LiveFeed };
  /** The key of pseudonyms (D-011), for erasure requests. */
  pseudonymizationSecret?: string;
  /** Failed logins per address; tests pass their own. */
  loginLimiter?: LoginLimiter;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: ApiServices;
  }
}

/** Request bodies are small JSON documents (settings, test events); anything larger is refused. */
const BODY_LIMIT = 256 * 1024;

/** On every response; the pages add their CSP (static.ts). */
const SECURITY_HEADERS = {
  // Overlay URLs carry their token: no page or response may hand it on as a referrer.
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  // For browsers that predate CSP's frame-ancestors: no other site frames the settings page.
  'x-frame-options': 'SAMEORIGIN',
  // A page this one opens (a link in a plugin description) gets no handle back to it.
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Nothing here uses them; autoplay stays allowed for alert sounds.
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
} as const;

/** RFC 3339 date-times that are also instants the store can compare: PostgreSQL has no year 0, JavaScript no leap second. */
function storableInstant(text: string): boolean {
  const year = new Date(text).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

export async function buildApp(services: ApiServices): Promise<FastifyInstance> {
  // Typed with fastify's base logger, like the plugins registered on it.
  const app: FastifyInstance = Fastify({
    loggerInstance: services.log.child({ component: 'http' }),
    // Requests are not logged one by one (overlay assets, polling); failures are, by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: false,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false, discriminator: true },
      onCreate: (ajv) => {
        const rfc3339 = ajv.formats['date-time'] as { validate: (text: string) => boolean };
        ajv.addFormat('date-time', { ...rfc3339, validate: (text: string) => rfc3339.validate(text) && storableInstant(text) });
      },
    },
  }) as unknown as FastifyInstance;
  app.decorate('services', services);
  await app.register(cookie);
  await app.register(websocket, { options: { maxPayload: CLIENT_FRAME_MAX_BYTES } });

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    // API answers carry tokens (new API tokens, overlay URLs): no cache keeps them.
    if (request.url.startsWith('/api/') || request.url.startsWith('/metrics')) reply.header('cache-control', 'no-store');
  });
  await app.register(authentication, { tokens: services.tokens });
  app.addHook('preValidation', async (request) => {
    const problem = storableProblem(request.params, 'the path') ?? storableProblem(request.query, 'the query') ?? storableProblem(request.body, 'the body');
    if (problem) throw new InvalidRequest(problem);
  });
  // ajv coerces "1e309" and "Infinity" in a query or path to Infinity, then skips the number's bounds.
  app.addHook('preHandler', async (request) => {
    for (const [where, values] of [['query', request.query], ['path', request.params]] as const)
      for (const [name, value] of Object.entries(values ?? {}))
        if ([value].flat().some((item) => typeof item === 'number' && !Number.isFinite(item))) throw new InvalidRequest(`${where} parameter ${name} must be a finite number`);
  });
  app.setErrorHandler((error: FastifyError & { details?: Record<string, unknown> }, request: FastifyRequest, reply: FastifyReply) => {
    if (error.validation) {
      return reply.status(400).send({ code: 'INVALID_REQUEST', message: error.message });
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    // Our own 503s (a component not configured or unavailable) say so; any other 5xx says nothing.
    if (status >= 500 && !(status === 503 && typeof error.code === 'string' && !error.code.startsWith('FST_'))) {
      // The cause in one line: a database error's message quotes its query parameters (viewers' data).
      request.log.error({ err: errorSummary(error), method: request.method, url: request.routeOptions.url }, 'request failed');
      return reply.status(500).send({ code: 'INTERNAL', message: 'internal error; the host log has the details' });
    }
    if (status === 429 && typeof error.details?.retryAfter === 'number') reply.header('retry-after', String(error.details.retryAfter));
    return reply.status(status).send({ code: error.code ?? 'INVALID_REQUEST', message: error.message, ...error.details });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  // The widgets of the host and the running plugins: their pages, builds, sockets and URLs.
  const widgets = new WidgetCatalog(services.plugins, HOST_WIDGETS);
  await app.register(healthRoutes);
  await app.register(authRoutes, { prefix: '/api/auth' });
  await app.register(async (admin) => {
    // Before body validation: an anonymous request learns nothing about what a route accepts.
    admin.addHook('onRequest', app.requireAdmin);
    await admin.register(sessionRoutes);
    await admin.register(pluginRoutes);
    await admin.register(eventRoutes);
    await admin.register(tokenRoutes, { widgets });
    await admin.register(gdprRoutes);
  }, { prefix: '/api' });
  if (services.sockets) await app.register(overlaySocketRoutes, { ...services.sockets, widgets });
  await app.register(pluginWidgetRoutes, { catalog: widgets });
  await app.register(staticRoutes);
  return app;
}
