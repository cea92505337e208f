/** Building raw.v1 envelopes: JSON-safe data, per-session sequence numbers. */
import { RAW_ENVELOPE_SCHEMA_VERSION, type EventSource, type RawEnvelope } from '@ttlp/sdk';

/** Protobuf default values: in proto3 an absent field and a field at its default mean the same. */
function isProtoDefault(value: unknown): boolean {
  if (value === '' || value === '0' || value === 0 || value === false || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

/**
 * Makes a decoded connector object safe and compact to put on the bus as JSON (D-018): bytes
 * fields become base64 strings, bigints decimal strings; object members at their protobuf
 * default ('', '0', 0, false, empty list or object) are left out, as proto3 itself does on the
 * wire. Array items are kept whatever their value, so positions do not shift.
 */
export function toJsonSafe(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) return value.map((item) => toJsonSafe(item) ?? null);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const safe = toJsonSafe(item);
      if (safe !== undefined && !isProtoDefault(safe)) out[key] = safe;
    }
    return out;
  }
  return undefined;
}

/** One session's envelope factory: fixed stream, session and source, a monotonic counter for seqNo (D-013). */
export class EnvelopeFactory {
  private counter = 0n;

  constructor(
    readonly streamId: string,
    readonly sessionId: string,
    readonly source: EventSource = 'live',
  ) {}

  /** The next envelope of the session; `seqNo` is its receive order (D-013). */
  make(type: string, data: Record<string, unknown>, timing: { timestamp?: Date; ingestedAt?: Date } = {}): RawEnvelope {
    this.counter += 1n;
    const ingestedAt = (timing.ingestedAt ?? new Date()).toISOString();
    return {
      schemaVersion: RAW_ENVELOPE_SCHEMA_VERSION,
      streamId: this.streamId,
      sessionId: this.sessionId,
      source: this.source,
      type,
      seqNo: this.counter.toString(),
      timestamp: timing.timestamp?.toISOString() ?? ingestedAt,
      ingestedAt,
      data,
    };
  }
}
