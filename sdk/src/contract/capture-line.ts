/** Capture v1: one NDJSON line per received message, with the message's own protobuf bytes. */
import Type, { type Static } from 'typebox';

export const CAPTURE_LINE_SCHEMA_ID = 'https://ttlp.dev/contracts/capture.v1.schema.json';

export const CaptureLineSchema = Type.Object(
  {
    ts: Type.String({ format: 'date-time', description: 'When the message was received' }),
    type: Type.String({ pattern: '^Webcast[A-Za-z0-9_]{1,120}$', description: 'Webcast message name' }),
    proto: Type.String({
      minLength: 0,
      pattern: '^[A-Za-z0-9+/]*={0,2}$',
      description: "Base64 of the message's protobuf bytes, decodable by the connector's deserializeMessage",
    }),
  },
  { $id: CAPTURE_LINE_SCHEMA_ID, title: 'Capture v1 line', additionalProperties: true },
);

export type CaptureLine = Static<typeof CaptureLineSchema>;
