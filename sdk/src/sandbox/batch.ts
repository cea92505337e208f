/**
 * The batch protocol: events go into the isolate in batches, one entry handling several while
 * their handlers finish synchronously and quickly (the prelude's `dispatch`). While it runs, the
 * isolate writes to memory shared with the host the index of the event being handled and the ms
 * the entry had run before it started, so that calls and a CPU overrun are pinned on one event.
 */
import { parseJson, runState } from './boundary.ts';
import type { FaultReport } from './faults.ts';
import type { Generation } from './isolate.ts';

/** Most events one entry into the isolate handles. */
const MAX_BATCH = 64;
/**
 * An entry takes no further event once it has run this long (ms, the isolate's wall clock): then
 * when the entry's CPU exceeds the budget, all but this much (plus the clock's 1 ms step) of it
 * belongs to its last event, which is the one at fault.
 */
const BATCH_SLICE_MS = 1;

/** Two Int32 slots: the index of the event being handled, the ms the entry had run before it. */
export const PROGRESS_BYTES = 2 * Int32Array.BYTES_PER_ELEMENT;

/**
 * The next batch of `events`, from `from` on: the indexes of the events the plugin wants, and
 * where the scan for them stopped.
 */
export function pickBatch(
  events: ReadonlyArray<{ eventType: string }>,
  from: number,
  wants: (eventType: string) => boolean,
): { picked: number[]; scanned: number } {
  const picked: number[] = [];
  let scanned = from;
  for (; scanned < events.length && picked.length < MAX_BATCH; scanned += 1) if (wants(events[scanned]!.eventType)) picked.push(scanned);
  return { picked, scanned };
}

/** The index of the batch's event being handled, as far as the isolate has written it. */
export function eventInProgress(progress: Int32Array, size: number): number {
  return Math.min(Math.max(progress[0]!, 0), size - 1);
}

/** Enters the prelude's `dispatch` for the events in `jsons`, their runs numbered from `firstRunId`. */
export function enterDispatch(generation: Generation, firstRunId: number, jsons: readonly string[], timeoutMs: number): unknown {
  generation.progress[0] = 0;
  generation.progress[1] = 0;
  return generation.entries.dispatch.applySync(undefined, [firstRunId, `[${jsons.join(',')}]`, BATCH_SLICE_MS], { timeout: timeoutMs });
}

/** How much of the entry's CPU, at most, went to the events before the one in progress. */
export function msBeforeCurrent(progress: Int32Array, size: number): number {
  return eventInProgress(progress, size) === 0 ? 0 : progress[1]! + 1;
}

/**
 * How many of the batch's `size` events the entry handled, and how the last one's run stands:
 * ended cleanly, still working, or a fault (the entry's own, which is the last event's).
 */
export function batchOutcome(
  entered: { value: unknown } | { fault: FaultReport },
  progress: Int32Array,
  size: number,
): { count: number; last: true | 'pending' | FaultReport } {
  let count: number;
  let last: true | 'pending' | FaultReport;
  if ('fault' in entered) {
    count = eventInProgress(progress, size) + 1;
    last = entered.fault;
  } else if (typeof entered.value === 'number') {
    count = entered.value;
    last = true;
  } else {
    const answer = parseJson(entered.value) as { count?: unknown; state?: unknown } | undefined;
    count = typeof answer?.count === 'number' ? answer.count : 0;
    last = runState(answer?.state === true ? true : JSON.stringify(answer?.state));
  }
  // Only a plugin that replaced the host's entry point answers otherwise.
  if (!Number.isInteger(count) || count < 1 || count > size) return { count: 1, last: { kind: 'crash', message: 'the plugin replaced its dispatch entry point' } };
  return { count, last };
}
