/**
 * The two WebSocket routes: `/ws/overlay/:widget` (OBS browser sources) and `/ws/live` (the
 * settings page's live feed). Refusals happen in `preValidation`, so the handshake fails with
 * an HTTP status and a JSON body instead of opening a socket. Expects the app to have
 * registered @fastify/websocket (with `maxPayload: CLIENT_FRAME_MAX_BYTES`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import Type, { type Static } from 'typebox';
import type { OverlayHub } from './hub.ts';
import type { LiveFeed } from './live-feed.ts';
import { CLIENT_FRAME_MAX_BYTES, OVERLAY_WIDGETS, isOverlayWidget } from './protocol.ts';

/** Who a request speaks for, as the app's authentication answers it. */
export interface SocketPrincipal {
  kind: 'admin' | 'api' | 'overlay';
  tokenId: string;
  /** The one widget an overlay token opens; an overlay token without one opens none. */
  widget?: string;
}

export interface OverlaySocketRoutesOptions {
  hub: OverlayHub;
  feed: LiveFeed;
  /** The principal of a request (overlay sockets carry `?token=`), or undefined when it has none. */
  authenticate: (request: FastifyRequest) => Promise<SocketPrincipal | undefined>;
}

export const SOCKET_ERROR_CODES = {
  AUTH_REQUIRED: 'AUTH_REQUIRED',
  AUTH_FORBIDDEN: 'AUTH_FORBIDDEN',
  OVERLAY_UNKNOWN_WIDGET: 'OVERLAY_UNKNOWN_WIDGET',
} as const;

const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });
type ErrorBody = Static<typeof ErrorBody>;

const OverlayParams = Type.Object({ widget: Type.String({ maxLength: 64 }) });
const OverlayQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 512 })) });
type OverlayParams = Static<typeof OverlayParams>;

const refusals = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

function refuse(reply: FastifyReply, status: 401 | 403 | 404, body: ErrorBody): FastifyReply {
  return reply.code(status).type('application/json').send(body);
}

const authRequired = (reply: FastifyReply) =>
  refuse(reply, 401, { code: SOCKET_ERROR_CODES.AUTH_REQUIRED, message: 'a valid token is required' });

async function overlaySocketRoutesPlugin(app: FastifyInstance, options: OverlaySocketRoutesOptions): Promise<void> {
  const { hub, feed, authenticate } = options;
  const maxPayload = app.websocketServer.options.maxPayload;
  if (maxPayload === undefined || maxPayload > CLIENT_FRAME_MAX_BYTES)
    app.log.warn({ maxPayload, expected: CLIENT_FRAME_MAX_BYTES }, 'overlay sockets: @fastify/websocket should be registered with options.maxPayload = CLIENT_FRAME_MAX_BYTES');
  // The principal found in preValidation, for the handler's logs; a WeakMap keeps it off the request type.
  const principals = new WeakMap<FastifyRequest, SocketPrincipal>();

  app.get<{ Params: OverlayParams }>(
    '/ws/overlay/:widget',
    {
      websocket: true,
      schema: { params: OverlayParams, querystring: OverlayQuery, response: refusals },
      preValidation: async (request, reply) => {
        const principal = await authenticate(request);
        if (!principal) return authRequired(reply);
        const { widget } = request.params;
        if (!isOverlayWidget(widget))
          return refuse(reply, 404, {
            code: SOCKET_ERROR_CODES.OVERLAY_UNKNOWN_WIDGET,
            message: `no overlay widget "${widget.slice(0, 64)}" (widgets: ${OVERLAY_WIDGETS.join(', ')})`,
          });
        if (principal.kind === 'overlay' && principal.widget !== widget)
          return refuse(reply, 403, { code: SOCKET_ERROR_CODES.AUTH_FORBIDDEN, message: `this token does not open the ${widget} widget` });
        principals.set(request, principal);
      },
    },
    (socket, request) => {
      const { widget } = request.params;
      // preValidation has refused anything else; this keeps the type narrowed.
      if (!isOverlayWidget(widget)) return socket.close(1008, 'unknown widget');
      hub.attach(socket, widget, principals.get(request));
    },
  );

  app.get(
    '/ws/live',
    {
      websocket: true,
      schema: { response: refusals },
      preValidation: async (request, reply) => {
        const principal = await authenticate(request);
        if (!principal) return authRequired(reply);
        if (principal.kind === 'overlay')
          return refuse(reply, 403, { code: SOCKET_ERROR_CODES.AUTH_FORBIDDEN, message: 'overlay tokens cannot open the live feed' });
        principals.set(request, principal);
      },
    },
    (socket, request) => feed.attach(socket, principals.get(request)),
  );
}

/** Registers `/ws/overlay/:widget` and `/ws/live`; needs @fastify/websocket registered first. */
export const overlaySocketRoutes = fp(overlaySocketRoutesPlugin, {
  name: 'ttlp-overlay-sockets',
  fastify: '5.x',
  dependencies: ['@fastify/websocket'],
});
