/**
 * raw envelope (raw.v1) → UnifiedEvent v1. Pure: no I/O, no clock, no state.
 * Every input yields either a contract-valid event or a typed rejection.
 */
import { TRIGGER_IDS, validateRawEnvelope, validateUnifiedEvent, type RawEnvelope, type UnifiedEvent } from '@ttlp/sdk/contract';
import { computeEventId } from './event-id.ts';
import { isObject, objectAt, optionalId, optionalInteger, type Fields } from './fields.ts';
import { mapLifecycle } from './lifecycle.ts';
import { RejectionError, badField, type NormalizeRejection, type NormalizeRejectionCode } from './rejection.ts';
import { mapWebcast } from './webcast.ts';

export interface NormalizeOptions {
  /** Keep stacks in ERROR events (never in production output). */
  debug?: boolean;
  /** Largest accepted envelope, as JSON text. */
  maxBytes?: number;
  /**
   * The envelope's length as JSON text when the caller already has that text (a bus entry);
   * saves serializing the envelope again just to measure it.
   */
  knownSize?: number;
}

export type NormalizeResult = { ok: true; event: UnifiedEvent } | { ok: false; rejection: NormalizeRejection };

/** Real messages stay far below this; a larger one is garbage or an attack. */
export const DEFAULT_MAX_ENVELOPE_BYTES = 1024 * 1024;

const MAX_REPORTED_ERRORS = 5;
/** Timestamps outside these bounds (ms) are not plausible TikTok times. */
const EARLIEST_TIME = Date.UTC(2015, 0, 1);
const LATEST_TIME = Date.UTC(2100, 0, 1);
/** createTime is milliseconds, but a few message types send seconds. */
const SECONDS_BELOW = 1e11;

function envelopeSize(input: Fields): number {
  try {
    return JSON.stringify(input).length;
  } catch (error) {
    if (error instanceof RangeError) throw new RejectionError('NORMALIZE_TOO_LARGE', 'the envelope is nested too deeply');
    throw new RejectionError('NORMALIZE_BAD_ENVELOPE', 'the envelope is not JSON-serializable');
  }
}

function createTime(common: Fields): string | undefined {
  let time = optionalInteger(common.createTime, 'data.common.createTime');
  if (!time) return undefined;
  if (time < SECONDS_BELOW) time *= 1000;
  if (time < EARLIEST_TIME || time > LATEST_TIME) throw badField('data.common.createTime', 'is not a plausible time');
  return new Date(time).toISOString();
}

function rejection(code: NormalizeRejectionCode, message: string, rawType?: string): NormalizeResult {
  return { ok: false, rejection: rawType === undefined ? { code, message } : { code, message, rawType } };
}

/** NORMALIZE_TOO_LARGE for an envelope over the limit as JSON text, or too deeply nested to measure. */
function sizeRejection(envelope: Fields, options: NormalizeOptions): NormalizeResult | undefined {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  try {
    const size = options.knownSize ?? envelopeSize(envelope);
    if (size > maxBytes) return rejection('NORMALIZE_TOO_LARGE', `the envelope is ${size} bytes, more than the ${maxBytes} allowed`);
    return undefined;
  } catch (error) {
    if (error instanceof RejectionError) return rejection(error.code, error.message);
    throw error;
  }
}

/** Any input: a size check, the raw.v1 schema, then the mapping. */
export function normalize(input: unknown, options: NormalizeOptions = {}): NormalizeResult {
  if (!isObject(input)) return rejection('NORMALIZE_NOT_OBJECT', 'the envelope must be a JSON object');
  const large = sizeRejection(input, options);
  if (large) return large;
  const checked = validateRawEnvelope(input);
  if (!checked.ok)
    return rejection(
      'NORMALIZE_BAD_ENVELOPE',
      `not a raw.v1 envelope: ${checked.errors.slice(0, MAX_REPORTED_ERRORS).join('; ')}`,
      typeof input.type === 'string' ? input.type.slice(0, 128) : undefined,
    );
  return mapEnvelope(checked.value, options);
}

/**
 * An envelope already known to keep to raw.v1 (the bus admits only such entries from `raw`):
 * the size check and the mapping, without checking the schema a second time.
 */
export function normalizeEnvelope(envelope: RawEnvelope, options: NormalizeOptions = {}): NormalizeResult {
  return sizeRejection(envelope, options) ?? mapEnvelope(envelope, options);
}

function mapEnvelope(envelope: RawEnvelope, options: NormalizeOptions): NormalizeResult {
  const rawType = envelope.type;
  try {
    const data = envelope.data;
    const common = objectAt(data.common, 'data.common');
    const mapped = mapLifecycle(rawType, data, options.debug === true) ?? mapWebcast(rawType, data);
    // D-013: TikTok's msgId when there is one, so a re-delivered message keeps its eventId.
    const seqNo = optionalId(common.msgId, 'data.common.msgId') ?? envelope.seqNo;
    const event = {
      schemaVersion: '1',
      eventId: computeEventId(envelope.streamId, envelope.sessionId, seqNo, rawType),
      eventType: mapped.eventType,
      triggerId: TRIGGER_IDS[mapped.eventType],
      streamId: envelope.streamId,
      sessionId: envelope.sessionId,
      timestamp: createTime(common) ?? envelope.timestamp,
      source: envelope.source,
      user: mapped.user,
      ingestedAt: envelope.ingestedAt,
      seqNo,
      ingestSeq: envelope.seqNo,
      rawType,
      payload: mapped.payload,
    };
    const valid = validateUnifiedEvent(event);
    if (!valid.ok)
      return rejection(
        'NORMALIZE_BAD_EVENT',
        `the ${mapped.eventType} event breaks the contract: ${valid.errors.slice(0, MAX_REPORTED_ERRORS).join('; ')}`,
        rawType,
      );
    return { ok: true, event: valid.value };
  } catch (error) {
    if (error instanceof RejectionError) return rejection(error.code, error.message, rawType);
    const message = error instanceof Error ? error.message : String(error);
    return rejection('NORMALIZE_INTERNAL', `normalizer defect: ${message}`, rawType);
  }
}
