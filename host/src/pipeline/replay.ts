/**
 * Replay: a stored session re-published as a new session (`source: "replay"`), in its
 * original receive order, with new eventIds (D-005), optionally paced by its own timing.
 */
import { randomUUID } from 'node:crypto';
import type { UnifiedEvent } from '@ttlp/sdk';
import type { EventBus } from '../bus/types.ts';
import { computeEventId } from '../normalize/index.ts';
import type { Store } from '../store/database.ts';
import { getSession, sessionEvents, startSession } from '../store/sessions.ts';
import { abortableSleep, pause, type Sleep } from '../ingest/provider.ts';
import { retryTransient } from './transient.ts';

export interface ReplayOptions {
  /** Relative to the original timing; undefined = as fast as possible. */
  speed?: number;
  signal?: AbortSignal;
  /** Events read and published per page when not paced. */
  pageSize?: number;
  sleep?: Sleep;
  onPublished?: (published: number) => void;
  /** Called once the replay session is recorded, before anything is published. */
  onStarted?: (sessionId: string) => void;
}

export interface ReplayResult {
  sessionId: string;
  replayedFrom: string;
  published: number;
  /** Bus id of the last event published, to wait for its storage. */
  lastId?: string;
}

export class SessionNotFoundError extends Error {
  readonly code = 'SESSION_NOT_FOUND';
  constructor(readonly sessionId: string) {
    super(`no stored session ${sessionId}`);
    this.name = 'SessionNotFoundError';
  }
}

/** The event as it appears in the replay session. */
export function replayedEvent(event: UnifiedEvent, sessionId: string, now: Date): UnifiedEvent {
  const seqNo = event.seqNo ?? event.ingestSeq ?? '0';
  const rawType = event.rawType ?? event.eventType;
  return {
    ...event,
    sessionId,
    source: 'replay',
    eventId: computeEventId(event.streamId, sessionId, seqNo, rawType),
    ingestedAt: now.toISOString(),
  };
}

/** When the original host received the event: the pacing clock of a replay. */
const receivedAt = (event: UnifiedEvent) => Date.parse(event.ingestedAt ?? event.timestamp);

export async function replaySession(store: Store, bus: EventBus, replayedFrom: string, options: ReplayOptions = {}): Promise<ReplayResult> {
  if (options.speed !== undefined && !(options.speed > 0)) throw new RangeError('speed must be a positive number');
  const resilient = <T>(work: () => Promise<T>) => retryTransient(work, { signal: options.signal });
  const original = await resilient(() => getSession(store, replayedFrom));
  if (!original) throw new SessionNotFoundError(replayedFrom);
  const result: ReplayResult = { sessionId: randomUUID(), replayedFrom, published: 0 };
  await resilient(() =>
    startSession(store, {
      sessionId: result.sessionId,
      streamId: original.streamId,
      type: 'replay',
      provider: 'replay',
      meta: { replayedFrom },
    }),
  );
  options.onStarted?.(result.sessionId);
  const sleep = options.sleep ?? abortableSleep;
  const pageSize = options.pageSize ?? 500;
  let after: string | undefined;
  let previous: number | undefined;
  for (;;) {
    const page = await resilient(() => sessionEvents(store, replayedFrom, { afterIngestSeq: after, limit: pageSize }));
    if (page.length === 0) break;
    let batch: UnifiedEvent[] = [];
    const publish = async () => {
      if (batch.length === 0) return;
      const ids = await resilient(() => bus.publishMany('events', batch));
      result.lastId = ids.at(-1);
      result.published += batch.length;
      batch = [];
      options.onPublished?.(result.published);
    };
    for (const event of page) {
      if (options.speed !== undefined) {
        const at = receivedAt(event);
        if (previous !== undefined && at > previous) {
          await publish();
          if (!(await pause(sleep, (at - previous) / options.speed, options.signal))) return result;
        }
        previous = at;
      }
      batch.push(replayedEvent(event, result.sessionId, new Date()));
    }
    await publish();
    if (options.signal?.aborted) return result;
    const last = page.at(-1)!;
    if (last.ingestSeq === undefined || page.length < pageSize) break;
    after = last.ingestSeq;
  }
  return result;
}
