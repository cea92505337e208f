/**
 * Capture v1 files: decoding lines with the connector's own protobuf decoder and
 * turning them into raw envelopes of one session.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { InvalidSchemaNameError, deserializeMessage } from 'tiktok-live-connector';
import type { EventSource, RawEnvelope } from '@ttlp/sdk';
import { validateCaptureLine } from '@ttlp/sdk/contract';
import { EnvelopeFactory, toJsonSafe } from './envelope.ts';
import { abortableSleep, pause, type IngestProvider, type Sleep } from './provider.ts';

export type IngestRejectionCode = 'INPUT_NOT_JSON' | 'CAPTURE_BAD_LINE' | 'CAPTURE_DECODE_FAILED' | 'INPUT_TOO_LARGE';

export interface IngestRejection {
  code: IngestRejectionCode;
  message: string;
  /** 1-based line number in the input. */
  line?: number;
}

export interface DecodedCapture {
  type: string;
  data: Record<string, unknown>;
  receivedAt: Date;
}

export type DecodeResult = { ok: true; message: DecodedCapture } | { ok: false; rejection: IngestRejection };

/** Longer lines are not real captures (the largest real message is a few hundred KiB). */
export const MAX_CAPTURE_LINE_CHARS = 4 * 1024 * 1024;
/**
 * Messages held back to find the followed room: captures also hold messages of
 * linked co-host rooms (and sometimes of a room followed just before), so the room
 * that most of the first messages belong to is taken as the stream's.
 */
export const ROOM_VOTE_WINDOW = 500;
export const UNKNOWN_STREAM_ID = '0';

export type WebcastDecodeResult = { ok: true; data: Record<string, unknown> } | { ok: false; unknownType: boolean; message: string };

/** One Webcast message's own bytes, decoded with the connector's schema and made JSON-safe (D-018). */
export function decodeWebcast(type: string, bytes: Buffer): WebcastDecodeResult {
  let decoded: unknown;
  try {
    decoded = deserializeMessage(type as Parameters<typeof deserializeMessage>[0], bytes);
  } catch (error) {
    const unknownType = error instanceof InvalidSchemaNameError;
    return { ok: false, unknownType, message: unknownType ? `the connector has no schema for ${type}` : `the bytes do not decode as ${type}` };
  }
  return { ok: true, data: toJsonSafe(decoded) as Record<string, unknown> };
}

/** Decodes one parsed capture v1 line (see parseJsonLine) into the connector's message object. */
export function decodeCaptureLine(value: unknown, line?: number): DecodeResult {
  const checked = validateCaptureLine(value);
  if (!checked.ok)
    return { ok: false, rejection: { code: 'CAPTURE_BAD_LINE', message: `not a capture v1 line: ${checked.errors.slice(0, 3).join('; ')}`, line } };
  const { type, proto, ts } = checked.value;
  const decoded = decodeWebcast(type, Buffer.from(proto, 'base64'));
  if (!decoded.ok) return { ok: false, rejection: { code: 'CAPTURE_DECODE_FAILED', message: decoded.message, line } };
  return { ok: true, message: { type, data: decoded.data, receivedAt: new Date(ts) } };
}

/** JSON.parse for one NDJSON line, as a result instead of a throw. */
export function parseJsonLine(text: string, line?: number): { ok: true; value: unknown } | { ok: false; rejection: IngestRejection } {
  if (text.length > MAX_CAPTURE_LINE_CHARS)
    return { ok: false, rejection: { code: 'INPUT_TOO_LARGE', message: `line is ${text.length} characters, more than ${MAX_CAPTURE_LINE_CHARS}`, line } };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, rejection: { code: 'INPUT_NOT_JSON', message: 'line is not valid JSON', line } };
  }
}

/** The room a decoded message names in `common.roomId`, when it names one. */
export function roomIdOf(data: Record<string, unknown>): string | undefined {
  const common = data.common;
  if (typeof common !== 'object' || common === null) return undefined;
  const roomId = (common as Record<string, unknown>).roomId;
  return typeof roomId === 'string' && /^[1-9][0-9]*$/.test(roomId) ? roomId : undefined;
}

/** The room most of these decoded messages belong to (D-016); '0' when none names a room. */
export function majorityRoomId(messages: Iterable<Record<string, unknown>>): string {
  const votes = new Map<string, number>();
  for (const data of messages) {
    const roomId = roomIdOf(data);
    if (roomId !== undefined) votes.set(roomId, (votes.get(roomId) ?? 0) + 1);
  }
  let winner = UNKNOWN_STREAM_ID;
  let best = 0;
  for (const [roomId, count] of votes) if (count > best) [winner, best] = [roomId, count];
  return winner;
}

export interface CaptureSessionOptions {
  sessionId: string;
  /** The followed room; by default the room most of the first messages belong to (D-013). */
  streamId?: string;
  source?: EventSource;
  /** Frame the session with connected / disconnected lifecycle envelopes. */
  lifecycle?: boolean;
  provider?: string;
}

/**
 * Turns decoded capture messages into the envelopes of one session. The stream id is
 * fixed for the session, so unless it is given the first messages wait for the vote.
 */
export class CaptureSession {
  private factory: EnvelopeFactory | undefined;
  private pending: DecodedCapture[] = [];
  /** The capture's clock: lifecycle envelopes are stamped with it, so replays keep its timing. */
  private lastReceivedAt: Date | undefined;

  constructor(private readonly options: CaptureSessionOptions) {
    if (options.streamId !== undefined) this.factory = this.open(options.streamId);
  }

  get streamId(): string | undefined {
    return this.factory?.streamId;
  }

  /** Envelopes ready to publish after this message (none while the stream id is still unknown). */
  accept(message: DecodedCapture): RawEnvelope[] {
    this.lastReceivedAt = message.receivedAt;
    if (this.factory) return [this.envelope(this.factory, message)];
    this.pending.push(message);
    return this.pending.length < ROOM_VOTE_WINDOW ? [] : this.release(this.votedRoomId());
  }

  /** Whatever is still held back, then the closing lifecycle envelope. */
  finish(reason = 'end of capture'): RawEnvelope[] {
    const out = this.factory ? [] : this.release(this.votedRoomId());
    if (this.options.lifecycle && this.factory)
      out.push(this.factory.make('disconnected', { reason, willReconnect: false, code: 'CAPTURE_END' }, this.captureTime(this.lastReceivedAt)));
    return out;
  }

  private votedRoomId(): string {
    return majorityRoomId(this.pending.map((message) => message.data));
  }

  private open(streamId: string): EnvelopeFactory {
    return new EnvelopeFactory(streamId, this.options.sessionId, this.options.source ?? 'live');
  }

  private release(streamId: string): RawEnvelope[] {
    const factory = (this.factory = this.open(streamId));
    const out: RawEnvelope[] = [];
    if (this.options.lifecycle)
      out.push(
        factory.make(
          'connected',
          { roomId: streamId, isConnected: true, provider: this.options.provider ?? 'capture' },
          this.captureTime(this.pending[0]?.receivedAt),
        ),
      );
    for (const message of this.pending.splice(0)) out.push(this.envelope(factory, message));
    return out;
  }

  private captureTime(at: Date | undefined): { timestamp?: Date; ingestedAt?: Date } {
    return at ? { timestamp: at, ingestedAt: at } : {};
  }

  private envelope(factory: EnvelopeFactory, message: DecodedCapture): RawEnvelope {
    // The recorded receive time is when the message was ingested, also when the capture is imported later.
    return factory.make(message.type, message.data, this.captureTime(message.receivedAt));
  }
}

/** Lines of a text file, numbered from 1, read as a stream. */
export async function* readLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line += 1;
      if (text.trim() !== '') yield { line, text };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

export interface CaptureProviderOptions {
  file: string;
  sessionId?: string;
  streamId?: string;
  source?: EventSource;
  /** Replay speed relative to the capture's own timing; undefined = as fast as possible. */
  speed?: number;
  lifecycle?: boolean;
  /** Lines that cannot be decoded; the pipeline sends them to the dead-letter stream. */
  onRejected?: (rejection: IngestRejection) => void;
  /** Waits between messages when pacing. */
  sleep?: Sleep;
}

/** Plays a capture v1 file as one session. */
export class CaptureProvider implements IngestProvider {
  readonly name = 'capture';
  readonly sessionId: string;

  constructor(private readonly options: CaptureProviderOptions) {
    if (options.speed !== undefined && !(options.speed > 0)) throw new RangeError('speed must be a positive number');
    this.sessionId = options.sessionId ?? randomUUID();
  }

  async *envelopes(signal?: AbortSignal): AsyncGenerator<RawEnvelope> {
    const session = new CaptureSession({
      sessionId: this.sessionId,
      streamId: this.options.streamId,
      source: this.options.source,
      lifecycle: this.options.lifecycle ?? true,
      provider: this.name,
    });
    let previous: number | undefined;
    for await (const { line, text } of readLines(this.options.file)) {
      if (signal?.aborted) return;
      const parsed = parseJsonLine(text, line);
      const decoded = parsed.ok ? decodeCaptureLine(parsed.value, line) : parsed;
      if (!decoded.ok) {
        this.options.onRejected?.(decoded.rejection);
        continue;
      }
      const at = decoded.message.receivedAt.getTime();
      if (this.options.speed !== undefined && previous !== undefined && at > previous) {
        if (!(await pause(this.options.sleep ?? abortableSleep, (at - previous) / this.options.speed, signal))) return;
      }
      previous = at;
      yield* session.accept(decoded.message);
    }
    if (!signal?.aborted) yield* session.finish();
  }
}
