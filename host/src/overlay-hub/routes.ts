/**
 * The WebSocket routes: `/ws/overlay/:pluginId/:widgetId` (the widgets of the host and the
 * plugins, in OBS browser sources; `/ws/overlay/:widget` for pages still open from before widgets
 * had two-segment names) and `/ws/live` (the settings page's live feed). Refusals happen in `preValidation`, so the handshake fails with
 * an HTTP status and a JSON body instead of opening a socket: a plain request (426), no
 * principal (401), the wrong one (403), an unknown widget (404), or a token that already holds
 * its share of sockets (429). Expects the app to have registered @fastify/websocket (with
 * `maxPayload: CLIENT_FRAME_MAX_BYTES`) and `authentication`, whose principal they check.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import fp from 'fastify-plugin';
import Type, { type Static } from 'typebox';
import type { Principal } from '../api/auth.ts';
import type { OverlayHub } from './hub.ts';
import type { LiveFeed } from './live-feed.ts';
import { pluginWidgetName } from '../plugin-widgets/catalog.ts';
import { CLIENT_FRAME_MAX_BYTES } from './protocol.ts';

/** A widget as the socket routes need it: its name and the channels (`<pluginId>/<channel>`) it shows. */
export interface SocketWidget {
  name: string;
  keys: readonly string[];
}

/** Finds the widgets of the host and the running plugins (the widget catalog). */
export interface SocketWidgets {
  find(pluginId: string, widgetId: string): SocketWidget | undefined;
  /** The widget a one-segment name means (`alerts` → `alerts/alerts`, `counters` → `host/counters`). */
  findByShortName(name: string): SocketWidget | undefined;
}

export interface OverlaySocketRoutesOptions {
  hub: OverlayHub;
  feed: LiveFeed;
  /** The widgets sockets may open; absent = none. */
  widgets?: SocketWidgets;
  /** Sockets one token (or settings session) may hold open at once; defaults in SOCKET_LIMITS. */
  limits?: Partial<SocketLimits>;
}

export interface SocketLimits {
  /** Overlay sockets per token: OBS scenes showing the same widget, a few browsers. */
  overlayPerToken: number;
  /** `/ws/live` sockets per admin or API token, or settings session: a few tabs. */
  liveFeedPerToken: number;
}

export const SOCKET_LIMITS: Readonly<SocketLimits> = { overlayPerToken: 20, liveFeedPerToken: 10 };

export const SOCKET_ERROR_CODES = {
  AUTH_REQUIRED: 'AUTH_REQUIRED',
  AUTH_FORBIDDEN: 'AUTH_FORBIDDEN',
  OVERLAY_UNKNOWN_WIDGET: 'OVERLAY_UNKNOWN_WIDGET',
  SOCKET_LIMIT: 'SOCKET_LIMIT',
  UPGRADE_REQUIRED: 'UPGRADE_REQUIRED',
} as const;

const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });
type ErrorBody = Static<typeof ErrorBody>;

const ShortNameParams = Type.Object({ widget: Type.String({ maxLength: 64 }) });
const WidgetParams = Type.Object({ pluginId: Type.String({ maxLength: 64 }), widgetId: Type.String({ maxLength: 32 }) });
const OverlayQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 512 })) });

const refusals = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 426: ErrorBody, 429: ErrorBody };

function refuse(reply: FastifyReply, status: 401 | 403 | 404 | 426 | 429, body: ErrorBody): FastifyReply {
  return reply.code(status).type('application/json').send(body);
}

const authRequired = (reply: FastifyReply) =>
  refuse(reply, 401, { code: SOCKET_ERROR_CODES.AUTH_REQUIRED, message: 'a valid token is required' });

/** A plain HTTP request to a socket endpoint (@fastify/websocket would answer it with an empty 404). */
const upgradeRequired = (reply: FastifyReply) =>
  refuse(reply, 426, { code: SOCKET_ERROR_CODES.UPGRADE_REQUIRED, message: 'this is a WebSocket endpoint: open it with a WebSocket upgrade' });

/**
 * Sockets held per token on one endpoint. A slot is taken when a handshake is accepted, before
 * the upgrade, so handshakes racing each other cannot pass the limit together; it is given back
 * when the connection closes, or when the handshake ends without becoming one.
 */
class SocketSlots {
  private readonly held = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** A slot for the token, with its (idempotent) release; undefined when the token holds `limit`. */
  take(tokenId: string): (() => void) | undefined {
    const count = this.held.get(tokenId) ?? 0;
    if (count >= this.limit) return undefined;
    this.held.set(tokenId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(tokenId) ?? 1) - 1;
      if (left > 0) this.held.set(tokenId, left);
      else this.held.delete(tokenId);
    };
  }
}

async function overlaySocketRoutesPlugin(app: FastifyInstance, options: OverlaySocketRoutesOptions): Promise<void> {
  const { hub, feed } = options;
  const limits = { ...SOCKET_LIMITS, ...options.limits };
  const overlaySlots = new SocketSlots(limits.overlayPerToken);
  const liveSlots = new SocketSlots(limits.liveFeedPerToken);
  const maxPayload = app.websocketServer.options.maxPayload;
  if (maxPayload === undefined || maxPayload > CLIENT_FRAME_MAX_BYTES)
    app.log.warn({ maxPayload, expected: CLIENT_FRAME_MAX_BYTES }, 'overlay sockets: @fastify/websocket should be registered with options.maxPayload = CLIENT_FRAME_MAX_BYTES');
  const releases = new WeakMap<FastifyRequest, () => void>();

  /** Takes a slot for the request's token, or refuses the handshake with 429. */
  const holdSlot = (slots: SocketSlots, request: FastifyRequest, reply: FastifyReply, principal: Principal): boolean => {
    const release = slots.take(principal.tokenId);
    if (!release) {
      refuse(reply, 429, { code: SOCKET_ERROR_CODES.SOCKET_LIMIT, message: `this token already holds ${slots.limit} open sockets here; close one first` });
      return false;
    }
    releases.set(request, release);
    // The upgraded connection runs on the request's TCP socket: its end gives the slot back, whatever happened in between.
    request.raw.socket?.once('close', release);
    return true;
  };
  /** The handshake was answered with a status instead of an upgrade: no socket holds the slot. */
  const releaseUnused = async (request: FastifyRequest) => releases.get(request)?.();
  /** The socket holds the slot until it closes. */
  const holdUntilClosed = (socket: { once(event: 'close', listener: () => void): unknown }, request: FastifyRequest) => {
    const release = releases.get(request);
    if (release) socket.once('close', release);
  };

  /** The widget each admitted handshake opens. */
  const admitted = new WeakMap<FastifyRequest, SocketWidget>();
  /**
   * Admits an overlay socket's handshake for `widget` (undefined: no such widget): an overlay token
   * opens its own widget only, so a plugin's widget never receives another plugin's channels.
   */
  const admitOverlay = (request: FastifyRequest, reply: FastifyReply, asked: string, widget: SocketWidget | undefined) => {
    if (!request.ws) return upgradeRequired(reply);
    const { principal } = request;
    if (!principal) return authRequired(reply);
    if (!widget)
      return refuse(reply, 404, { code: SOCKET_ERROR_CODES.OVERLAY_UNKNOWN_WIDGET, message: `neither the host nor a running plugin has the widget "${asked.slice(0, 97)}"` });
    if (principal.kind === 'overlay' && principal.widget !== widget.name)
      return refuse(reply, 403, { code: SOCKET_ERROR_CODES.AUTH_FORBIDDEN, message: `this token does not open the ${widget.name} widget` });
    if (!holdSlot(overlaySlots, request, reply, principal)) return reply;
    admitted.set(request, widget);
  };
  const openOverlay = (socket: WebSocket, request: FastifyRequest) => {
    holdUntilClosed(socket, request);
    const widget = admitted.get(request);
    // preValidation admitted it; anything else never reaches here.
    if (!widget) return socket.close(1008, 'unknown widget');
    hub.attach(socket, widget.name, widget.keys, request.principal);
  };

  app.get<{ Params: Static<typeof WidgetParams> }>(
    '/ws/overlay/:pluginId/:widgetId',
    {
      websocket: true,
      schema: { params: WidgetParams, querystring: OverlayQuery, response: refusals },
      onResponse: releaseUnused,
      preValidation: async (request, reply) => {
        const { pluginId, widgetId } = request.params;
        return admitOverlay(request, reply, pluginWidgetName(pluginId, widgetId), options.widgets?.find(pluginId, widgetId));
      },
    },
    openOverlay,
  );

  app.get<{ Params: Static<typeof ShortNameParams> }>(
    '/ws/overlay/:widget',
    {
      websocket: true,
      schema: { params: ShortNameParams, querystring: OverlayQuery, response: refusals },
      onResponse: releaseUnused,
      preValidation: async (request, reply) => admitOverlay(request, reply, request.params.widget, options.widgets?.findByShortName(request.params.widget)),
    },
    openOverlay,
  );

  app.get(
    '/ws/live',
    {
      websocket: true,
      schema: { response: refusals },
      onResponse: releaseUnused,
      preValidation: async (request, reply) => {
        if (!request.ws) return upgradeRequired(reply);
        const { principal } = request;
        if (!principal) return authRequired(reply);
        if (principal.kind === 'overlay')
          return refuse(reply, 403, { code: SOCKET_ERROR_CODES.AUTH_FORBIDDEN, message: 'overlay tokens cannot open the live feed' });
        if (!holdSlot(liveSlots, request, reply, principal)) return reply;
      },
    },
    (socket, request) => {
      holdUntilClosed(socket, request);
      feed.attach(socket, request.principal);
    },
  );
}

/** Registers the overlay sockets and `/ws/live`; needs @fastify/websocket and `authentication` registered first. */
export const overlaySocketRoutes = fp(overlaySocketRoutesPlugin, {
  name: 'ttlp-overlay-sockets',
  fastify: '5.x',
  dependencies: ['@fastify/websocket', 'ttlp-authentication'],
});
