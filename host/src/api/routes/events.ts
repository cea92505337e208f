/** `POST /api/events/test`: a synthetic event of any type through the pipeline, marked `test: true`. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { EVENT_TYPES } from '@ttlp/sdk';
import { TestEventAcceptedSchema, type TestEventAccepted } from '@ttlp/sdk/host-contract';
import { ensureSession } from '../../store/browse.ts';
import { buildTestEvent } from '../synthetic-events.ts';
import { ERROR_RESPONSES, InvalidRequest, withDetails } from '../errors.ts';

const TestEventBody = Type.Object(
  {
    eventType: Type.Enum(EVENT_TYPES),
    payload: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    user: Type.Optional(
      Type.Object(
        {
          userId: Type.Optional(Type.String({ pattern: '^[0-9]{1,20}$' })),
          uniqueId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          displayName: Type.Optional(Type.String({ maxLength: 128 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Where test events go while no stream is connected: one session per host run. */
const TEST_STREAM_ID = 'test';

export async function eventRoutes(app: FastifyInstance): Promise<void> {
  const { store, bus, ingest } = app.services;
  const fallback = { streamId: TEST_STREAM_ID, sessionId: randomUUID() };
  let fallbackRecorded = false;

  app.post<{ Body: Static<typeof TestEventBody> }>('/events/test', { schema: { body: TestEventBody, response: { 202: TestEventAcceptedSchema, ...ERROR_RESPONSES } } }, async (request, reply) => {
    let where = ingest.current();
    if (!where) {
      if (!fallbackRecorded) await ensureSession(store, { ...fallback, provider: 'test' });
      fallbackRecorded = true;
      where = fallback;
    }
    const built = buildTestEvent(request.body, where);
    if (!built.ok) throw withDetails(new InvalidRequest(`not a valid ${request.body.eventType} event: ${built.problems.join('; ')}`), { problems: built.problems });
    await bus.publish('events', built.event);
    return reply.status(202).send({ eventId: built.event.eventId, sessionId: built.event.sessionId } satisfies TestEventAccepted);
  });
}
