/**
 * Entries for bus tests: valid payloads of every stream, told apart by a number, and forged
 * ones written as anyone with access to the bus could write them.
 */
import type { EventBus, StreamName, StreamPayload, StreamPayloads } from '../../src/bus/types.ts';
import { chatEvent } from './events.ts';

const SESSION_ID = '9d7cbb4e-0a4c-4c0e-9a53-6c1d2b3e4f50';
const AT = '2026-11-25T18:00:00.000Z';

const builders: { [S in StreamName]: (n: number) => StreamPayloads[S] } = {
  raw: (n) => ({
    schemaVersion: 'raw.v1',
    streamId: '7666766752591078691',
    sessionId: SESSION_ID,
    source: 'live',
    type: 'WebcastChatMessage',
    seqNo: String(n + 1),
    timestamp: AT,
    ingestedAt: AT,
    data: { n },
  }),
  events: (n) => chatEvent({ sessionId: SESSION_ID, seqNo: n + 1 }, `message ${n}`),
  overlay: (n) => ({ pluginId: 'alerts', channel: 'alerts', kind: 'message', data: { n }, at: AT }),
  dlq: (n) => ({ stage: 'test', reason: 'TEST', error: `letter ${n}`, payload: { n }, failedAt: AT }),
};

/** A valid payload of `stream`, number `n`. */
export function entryOf<S extends StreamName>(stream: S, n: number): StreamPayload<S> {
  return builders[stream](n);
}

/** `count` valid payloads of `stream`, numbered from `from`. */
export function numbered<S extends StreamName>(stream: S, from: number, count: number): StreamPayload<S>[] {
  return Array.from({ length: count }, (_, index) => entryOf(stream, from + index));
}

/** Appends payloads to a stream whether they keep to its contract or not, as a forger could. */
export function publishForged(bus: EventBus, stream: StreamName, payloads: unknown[]): Promise<string[]> {
  // The bus types what the host's own producers publish; a forger is not one of them.
  return bus.publishMany(stream, payloads as StreamPayload<StreamName>[]);
}
