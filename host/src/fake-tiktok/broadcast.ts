/**
 * A capture file as the fake TikTok plays it: messages with their recorded timing, the room
 * they belong to, and fresh message ids for each further round when it loops (TikTok never
 * repeats an id within a stream, and the pipeline deduplicates by it).
 */
import * as connector from 'tiktok-live-connector';
import { decodeWebcast, majorityRoomId, parseJsonLine, readLines, ROOM_VOTE_WINDOW, UNKNOWN_STREAM_ID } from '../ingest/capture.ts';
import { validateCaptureLine } from '@ttlp/sdk/contract';
import type { OutgoingMessage } from './frames.ts';

interface SchemaFns {
  decode(input: Uint8Array): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}

export interface CapturedMessage extends OutgoingMessage {
  /** Receive time in the capture, ms since the epoch. */
  at: number;
}

export class CaptureProblem extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'CaptureProblem';
  }
}

/** Reads a whole capture v1 file; a line that is not capture v1 stops it with the line number. */
export async function loadCapture(file: string): Promise<CapturedMessage[]> {
  const messages: CapturedMessage[] = [];
  for await (const { line, text } of readLines(file)) {
    const parsed = parseJsonLine(text, line);
    if (!parsed.ok) throw new CaptureProblem(parsed.rejection.message, line);
    const checked = validateCaptureLine(parsed.value);
    if (!checked.ok) throw new CaptureProblem(`not a capture v1 line: ${checked.errors.slice(0, 3).join('; ')}`, line);
    messages.push({ type: checked.value.type, proto: Buffer.from(checked.value.proto, 'base64'), at: Date.parse(checked.value.ts) });
  }
  if (messages.length === 0) throw new CaptureProblem('the capture holds no messages');
  return messages;
}

function schemaOf(type: string): SchemaFns | undefined {
  const schema = (connector as unknown as Record<string, unknown>)[type];
  return typeof schema === 'object' && schema !== null && 'decode' in schema && 'encode' in schema ? (schema as SchemaFns) : undefined;
}

function commonOf(decoded: unknown): { msgId?: string } | undefined {
  const common = (decoded as { common?: unknown }).common;
  return typeof common === 'object' && common !== null ? (common as { msgId?: string }) : undefined;
}

/** The room most of the first messages belong to (D-016): the followed stream's. */
export function captureRoomId(messages: readonly CapturedMessage[]): string | undefined {
  // An undecodable message has no vote.
  const decoded = messages.slice(0, ROOM_VOTE_WINDOW).flatMap((message) => {
    const result = decodeWebcast(message.type, Buffer.from(message.proto));
    return result.ok ? [result.data] : [];
  });
  const roomId = majorityRoomId(decoded);
  return roomId === UNKNOWN_STREAM_ID ? undefined : roomId;
}

const ID_SPACE = 2n ** 63n;
/** A large odd step keeps the ids of further rounds far from the captured ones. */
const ROUND_STEP = 1_000_000_007n;

/** The message as sent in loop round `round` (0 = as captured): same content, a new msgId. */
export function inRound(message: CapturedMessage, round: number): OutgoingMessage {
  if (round === 0) return message;
  const schema = schemaOf(message.type);
  if (!schema) return message;
  try {
    const decoded = schema.decode(message.proto);
    const common = commonOf(decoded);
    if (!common?.msgId || !/^[0-9]+$/.test(common.msgId)) return message;
    common.msgId = ((BigInt(common.msgId) + BigInt(round) * ROUND_STEP) % ID_SPACE).toString();
    return { type: message.type, proto: schema.encode(decoded).finish() };
  } catch {
    return message;
  }
}
