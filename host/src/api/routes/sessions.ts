/** Streams and sessions: listings, a session's events by page, and replays. */
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { EVENT_TYPES } from '@ttlp/sdk';
import {
  EventPageSchema,
  ReplayStartedSchema,
  SessionListSchema,
  StreamListSchema,
  type EventPage,
  type ReplayStarted,
  type SessionList,
  type StreamList,
} from '@ttlp/sdk/host-contract';
import { replaySession, SessionNotFoundError } from '../../pipeline/replay.ts';
import { errorSummary } from '../../error-summary.ts';
import { eventCounts, listStreams, sessionById, sessionEventPage } from '../../store/browse.ts';
import { listSessions } from '../../store/sessions.ts';
import { ERROR_RESPONSES, InvalidRequest, SessionNotFound } from '../errors.ts';

const SessionParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const SessionsQuery = Type.Object({
  streamId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
});
const EventsQuery = Type.Object({
  type: Type.Optional(Type.Array(Type.Enum(EVENT_TYPES), { maxItems: 13 })),
  userId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
});
const ReplayBody = Type.Object({ speed: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000 })) }, { additionalProperties: false });

const encodeCursor = (timestamp: string, eventId: string) => Buffer.from(JSON.stringify([timestamp, eventId])).toString('base64url');

function decodeCursor(cursor: string): { timestamp: string; eventId: string } {
  try {
    const [timestamp, eventId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    // A time the store can compare: PostgreSQL has no year 0 and none past 9999.
    const year = typeof timestamp === 'string' ? new Date(timestamp).getUTCFullYear() : Number.NaN;
    if (typeof timestamp === 'string' && year >= 1 && year <= 9999 && typeof eventId === 'string' && /^[0-9a-f]{64}$/.test(eventId))
      return { timestamp, eventId };
  } catch {
    // answered below
  }
  throw new InvalidRequest('cursor is not one this API gave out');
}

export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const { store, bus, log } = app.services;

  app.get('/streams', { schema: { response: { 200: StreamListSchema, ...ERROR_RESPONSES } } }, async (): Promise<StreamList> => ({
    streams: (await listStreams(store)).map((stream) => ({ ...stream, firstSeenAt: stream.firstSeenAt.toISOString() })),
  }));

  app.get<{ Querystring: Static<typeof SessionsQuery> }>('/sessions', { schema: { querystring: SessionsQuery, response: { 200: SessionListSchema, ...ERROR_RESPONSES } } }, async (request): Promise<SessionList> => {
    const sessions = await listSessions(store, { streamId: request.query.streamId, limit: request.query.limit });
    const counts = await eventCounts(store, sessions.map((session) => session.sessionId));
    return {
      sessions: sessions.map((session) => ({
        sessionId: session.sessionId,
        streamId: session.streamId,
        type: session.type,
        provider: session.provider,
        startedAt: session.startedAt.toISOString(),
        endedAt: session.endedAt?.toISOString() ?? null,
        eventCount: counts.get(session.sessionId) ?? 0,
        replayedFrom: typeof session.meta.replayedFrom === 'string' ? session.meta.replayedFrom : null,
      })),
    };
  });

  app.get<{ Params: Static<typeof SessionParams>; Querystring: Static<typeof EventsQuery> }>(
    '/sessions/:id/events',
    { schema: { params: SessionParams, querystring: EventsQuery, response: { 200: EventPageSchema, ...ERROR_RESPONSES } } },
    async (request): Promise<EventPage> => {
      const { id } = request.params;
      if (!(await sessionById(store, id))) throw new SessionNotFound(id);
      const query = request.query;
      const page = await sessionEventPage(store, id, {
        types: query.type,
        userId: query.userId,
        from: query.from === undefined ? undefined : new Date(query.from),
        to: query.to === undefined ? undefined : new Date(query.to),
        limit: query.limit,
        after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      });
      const last = page.at(-1);
      return { events: page, nextCursor: page.length === query.limit && last ? encodeCursor(last.timestamp, last.eventId) : null };
    },
  );

  app.post<{ Params: Static<typeof SessionParams>; Body: Static<typeof ReplayBody> }>(
    '/sessions/:id/replay',
    { schema: { params: SessionParams, body: Type.Optional(ReplayBody), response: { 202: ReplayStartedSchema, ...ERROR_RESPONSES } } },
    async (request, reply) => {
      const replayedFrom = request.params.id;
      const speed = request.body?.speed;
      // Answered once the replay session exists; the events follow in the background (paced replays take a while).
      const started = await new Promise<string>((resolve, reject) => {
        replaySession(store, bus, replayedFrom, { speed, onStarted: resolve }).then(
          (result) => log.info({ sessionId: result.sessionId, replayedFrom, published: result.published }, 'replay finished'),
          (error: unknown) => {
            if (error instanceof SessionNotFoundError) reject(new SessionNotFound(replayedFrom));
            else {
              log.error({ err: errorSummary(error), replayedFrom }, 'replay failed');
              reject(error);
            }
          },
        );
      });
      return reply.status(202).send({ sessionId: started, replayedFrom } satisfies ReplayStarted);
    },
  );
}
