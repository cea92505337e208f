/**
 * A synthetic live session for benchmarks: real messages from the shared captures, in the type
 * mix of a real stream, with fresh msgIds so every message is distinct. Envelopes are made on
 * demand (the decoded templates are shared), so 200,000 of them fit in little memory.
 *
 * The captures' line counts are not a stream's mix: their collector kept at most 21 messages of
 * each type. What they do keep is when each message arrived, so the mix is taken from each type's
 * arrival rate in each capture (a capture is one stream), averaged over the captures.
 */
import { randomUUID } from 'node:crypto';
import type { RawEnvelope } from '@ttlp/sdk';
import { EnvelopeFactory } from '../src/ingest/envelope.ts';
import { captureEnvelopes, captureFiles, captureLines } from '../test/support/captures.ts';

/** Slots in one turn of the schedule; a type's share of them is its share of the mix. */
const SCHEDULE_SLOTS = 10_000;

export interface SyntheticSession {
  sessionId: string;
  streamId: string;
  /** Envelope `index` (0-based) of the session; the same index always gives the same message. */
  envelope(index: number): RawEnvelope;
}

export interface TypeMix {
  /** Message type → share of the stream's messages (the shares add up to 1). */
  shares: Map<string, number>;
  /** Message type → every captured message of that type, decoded. */
  templates: Map<string, RawEnvelope[]>;
}

/** Messages per second of each type in one capture. */
function arrivalRates(file: string): Map<string, number> {
  const arrivals = new Map<string, number[]>();
  for (const line of captureLines(file)) {
    const { type, ts } = JSON.parse(line) as { type: string; ts: string };
    arrivals.set(type, [...(arrivals.get(type) ?? []), Date.parse(ts)]);
  }
  const all = [...arrivals.values()].flat();
  const captureSeconds = (Math.max(...all) - Math.min(...all)) / 1000;
  const rates = new Map<string, number>();
  for (const [type, times] of arrivals) {
    const seconds = (times.at(-1)! - times[0]!) / 1000;
    // A type seen a few times: the gaps between its messages; seen once or twice: over the whole capture.
    rates.set(type, times.length >= 3 && seconds > 0 ? (times.length - 1) / seconds : times.length / captureSeconds);
  }
  return rates;
}

/**
 * The type mix of the shared captures. Captures without a live session's timing (single-message
 * fixtures collected over days) contribute templates but not rates.
 */
export function captureTypeMix(): TypeMix {
  const templates = new Map<string, RawEnvelope[]>();
  const shares = new Map<string, number>();
  const streams = captureFiles().filter((file) => !file.startsWith('singles.'));
  for (const file of captureFiles()) {
    for (const { type, envelope } of captureEnvelopes(file)) templates.set(type, [...(templates.get(type) ?? []), envelope]);
  }
  for (const file of streams) {
    const rates = arrivalRates(file);
    const total = [...rates.values()].reduce((sum, rate) => sum + rate, 0);
    for (const [type, rate] of rates) shares.set(type, (shares.get(type) ?? 0) + rate / total / streams.length);
  }
  return { shares, templates };
}

/**
 * One turn of the schedule: which type each slot sends, spread evenly (smooth weighted
 * round-robin), every type at least once.
 */
function schedule(shares: Map<string, number>): string[] {
  const weights = [...shares].map(([type, share]) => ({ type, weight: Math.max(1, Math.round(share * SCHEDULE_SLOTS)), current: 0 }));
  const total = weights.reduce((sum, entry) => sum + entry.weight, 0);
  const slots: string[] = [];
  for (let slot = 0; slot < total; slot += 1) {
    let best = weights[0]!;
    for (const entry of weights) {
      entry.current += entry.weight;
      if (entry.current > best.current) best = entry;
    }
    best.current -= total;
    slots.push(best.type);
  }
  return slots;
}

let mix: TypeMix | undefined;

export function syntheticSession(): SyntheticSession {
  mix ??= captureTypeMix();
  const { templates } = mix;
  const slots = schedule(mix.shares);
  // For slot i: how many earlier slots of the turn send the same type, and each type's slots per turn.
  const perTurn = new Map<string, number>();
  const occurrence = slots.map((type) => {
    const seen = perTurn.get(type) ?? 0;
    perTurn.set(type, seen + 1);
    return seen;
  });
  const sessionId = randomUUID();
  const streamId = '7000000000000000001';
  const factory = new EnvelopeFactory(streamId, sessionId);
  const msgIdBase = 7_300_000_000_000_000_000n;
  return {
    sessionId,
    streamId,
    envelope(index) {
      const slot = index % slots.length;
      const type = slots[slot]!;
      const ofType = Math.floor(index / slots.length) * perTurn.get(type)! + occurrence[slot]!;
      const candidates = templates.get(type)!;
      const template = candidates[ofType % candidates.length]!;
      const common = { ...(template.data.common as Record<string, unknown>), msgId: String(msgIdBase + BigInt(index)), roomId: streamId };
      return factory.make(template.type, { ...template.data, common });
    },
  };
}
