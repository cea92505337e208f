/**
 * What each bus stream carries, and the check the consumer loop makes of every entry before a
 * handler sees it: `raw` holds raw.v1 envelopes, `events` UnifiedEvents v1, `overlay` the
 * plugins' overlay messages, `dlq` dead letters. Anyone who can write to the bus can write
 * anything, so an entry that breaks its stream's contract is dead-lettered, never handled.
 */
import {
  compileValidator,
  validateRawEnvelope,
  validateUnifiedEvent,
  type RawEnvelope,
  type UnifiedEvent,
  type ValidationResult,
} from '@ttlp/sdk/contract';
import { HOST_PUBLISHER } from '@ttlp/sdk/host-contract';
import Type, { type Static } from 'typebox';
import { STREAMS, type StreamName } from './types.ts';

/**
 * What plugins publish on the `overlay` stream. The host's own channels are not theirs to publish
 * on: an entry under the host's id must carry a seal, which the host's hub checks (overlay-hub/host-seal.ts).
 */
export const OverlayMessageSchema = Type.Object(
  {
    pluginId: Type.String({ minLength: 1, maxLength: 128 }),
    channel: Type.String({ minLength: 1, maxLength: 128 }),
    kind: Type.Union([Type.Literal('message'), Type.Literal('state')], {
      description: '`message`: an event for the widget; `state`: the channel’s current state, replacing the last',
    }),
    data: Type.Unknown(),
    eventId: Type.Optional(Type.String({ maxLength: 128 })),
    at: Type.String({ maxLength: 64 }),
    seal: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'The host’s own channels only: the publishing host’s HMAC' })),
  },
  { if: { properties: { pluginId: { const: HOST_PUBLISHER } } }, then: { properties: { seal: { type: 'string' } }, required: ['seal'] } },
);
export type OverlayMessage = Static<typeof OverlayMessageSchema>;

/** What lands on the `dlq` stream. */
export const DeadLetterSchema = Type.Object({
  stage: Type.String({ description: 'Pipeline stage that gave up (`normalize`, `store`, …)' }),
  reason: Type.String({ description: 'Stable code: a normalizer rejection code, `INVALID_ENTRY`, `MAX_DELIVERIES`, …' }),
  error: Type.String({ description: 'Human-readable detail, never a stack' }),
  payload: Type.Unknown({ description: 'The entry’s payload as it was' }),
  failedAt: Type.String(),
  source: Type.Optional(
    Type.Object(
      {
        stream: Type.Enum(STREAMS),
        id: Type.String(),
        deliveries: Type.Integer({ minimum: 1 }),
      },
      { description: 'Where the entry came from, when it came from a stream' },
    ),
  ),
});
export type DeadLetter = Static<typeof DeadLetterSchema>;

export interface StreamPayloads {
  raw: RawEnvelope;
  events: UnifiedEvent;
  overlay: OverlayMessage;
  dlq: DeadLetter;
}

export type StreamPayload<S extends StreamName> = StreamPayloads[S];

/** Reason of the dead letter an entry that breaks its stream's contract becomes. */
export const INVALID_ENTRY = 'INVALID_ENTRY';

/** Each stream's check, compiled once; run once per entry and consumer group. */
export const STREAM_CONTRACTS: { readonly [S in StreamName]: (payload: unknown) => ValidationResult<StreamPayloads[S]> } = {
  raw: validateRawEnvelope,
  events: validateUnifiedEvent,
  overlay: compileValidator<OverlayMessage>(OverlayMessageSchema),
  dlq: compileValidator<DeadLetter>(DeadLetterSchema),
};
