/**
 * Stream entries as both buses keep them: `<ms>-<seq>` ids, payloads as JSON text, a length cap.
 * Ids are compared as numbers, part by part, never as strings ('9-0' comes before '10-0').
 */

export interface StreamPosition {
  ms: number;
  seq: number;
}

export const STREAM_START = '0-0';

/** Entries a stream keeps when the bus is not told otherwise. */
export const DEFAULT_MAX_LEN = 1_000_000;

/** Parses `<ms>-<seq>` (or a bare `<ms>`, meaning `<ms>-0`); throws on anything else. */
export function parseStreamId(id: string): StreamPosition {
  const match = /^(\d+)(?:-(\d+))?$/.exec(id);
  if (!match) throw new TypeError(`not a stream id: ${JSON.stringify(id)}`);
  return { ms: Number(match[1]), seq: Number(match[2] ?? 0) };
}

export function formatStreamId(position: StreamPosition): string {
  return `${position.ms}-${position.seq}`;
}

export function comparePositions(a: StreamPosition, b: StreamPosition): number {
  return a.ms - b.ms || a.seq - b.seq;
}

/** Negative, zero or positive as `a` comes before, is, or comes after `b`. */
export function compareStreamIds(a: string, b: string): number {
  return comparePositions(parseStreamId(a), parseStreamId(b));
}

/** The id after `last` at time `now`: the clock's ms once it moved on, else the same ms with seq + 1. */
export function nextPosition(last: StreamPosition, now: number): StreamPosition {
  return now > last.ms ? { ms: now, seq: 0 } : { ms: last.ms, seq: last.seq + 1 };
}

/** JSON text of a payload; throws a TypeError for what JSON cannot carry (BigInt, cycles, undefined). */
export function encodePayload(payload: unknown): string {
  const text = JSON.stringify(payload);
  if (typeof text !== 'string') throw new TypeError(`a ${typeof payload} payload has no JSON form`);
  return text;
}
