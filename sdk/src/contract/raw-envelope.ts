/**
 * raw.v1: what an ingest provider puts on the "raw" bus stream, before normalization.
 * `data` is the decoded message exactly as the connector delivered it, made JSON-safe.
 */
import Type, { type Static } from 'typebox';
import { RAW_ENVELOPE_SCHEMA_VERSION } from './constants.ts';

export { RAW_ENVELOPE_SCHEMA_VERSION, LIFECYCLE_TYPES, type LifecycleType } from './constants.ts';

export const RAW_ENVELOPE_SCHEMA_ID = 'https://ttlp.dev/contracts/raw-envelope.v1.schema.json';

export const RawEnvelopeSchema = Type.Object(
  {
    schemaVersion: Type.Literal(RAW_ENVELOPE_SCHEMA_VERSION),
    streamId: Type.String({ minLength: 1, maxLength: 64, description: 'TikTok room id of the followed stream' }),
    sessionId: Type.String({ format: 'uuid' }),
    source: Type.Union([Type.Literal('live'), Type.Literal('replay')]),
    type: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[A-Za-z][A-Za-z0-9_.]*$',
      description: 'Webcast message name (WebcastGiftMessage) or lifecycle name (connected, disconnected, error)',
    }),
    seqNo: Type.String({
      pattern: '^[0-9]{1,18}$',
      description: 'Per-session receive counter, from 1 (D-013); fits a PostgreSQL bigint',
    }),
    timestamp: Type.String({ format: 'date-time', description: 'When the message was created, as far as the provider knows' }),
    ingestedAt: Type.String({ format: 'date-time', description: 'When the provider received it' }),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'The decoded message object' }),
  },
  { $id: RAW_ENVELOPE_SCHEMA_ID, title: 'Raw envelope raw.v1', additionalProperties: false },
);

export type RawEnvelope = Static<typeof RawEnvelopeSchema>;
