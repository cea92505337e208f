/** Valid UnifiedEvents for plugin tests, without a live stream. */
import { createHash } from 'node:crypto';
import { TRIGGER_IDS, SYSTEM_USER, type EventType } from '../contract/constants.ts';
import type { EventUser, PayloadOf, UnifiedEvent, UnifiedEventOf } from '../contract/unified-event.ts';

let counter = 0;

export interface EventOverrides {
  user?: Partial<EventUser>;
  timestamp?: string;
  sessionId?: string;
  streamId?: string;
  source?: 'live' | 'replay';
}

/** An event of `eventType` with `payload`; ids and times are filled in, each call gets a new eventId. */
export function makeEvent<E extends EventType>(eventType: E, payload: PayloadOf<E>, overrides: EventOverrides = {}): UnifiedEventOf<E> {
  counter += 1;
  const seqNo = String(7_000_000_000_000_000_000n + BigInt(counter));
  const lifecycle = eventType === 'CONNECTED' || eventType === 'DISCONNECTED' || eventType === 'ERROR';
  const userId = overrides.user?.userId ?? (lifecycle ? SYSTEM_USER.userId : '6800000000000000001');
  const user: EventUser = lifecycle
    ? { ...SYSTEM_USER }
    : { userId, uniqueId: `viewer_${userId.slice(-4)}`, displayName: `Viewer ${userId.slice(-4)}`, ...overrides.user };
  const event = {
    schemaVersion: '1',
    eventId: createHash('sha256').update(`test:${process.pid}:${seqNo}:${Math.random()}`).digest('hex'),
    eventType,
    triggerId: TRIGGER_IDS[eventType],
    streamId: overrides.streamId ?? '7000000000000000001',
    sessionId: overrides.sessionId ?? '00000000-0000-4000-8000-000000000001',
    timestamp: overrides.timestamp ?? new Date().toISOString(),
    ingestedAt: new Date().toISOString(),
    source: overrides.source ?? 'live',
    seqNo,
    user,
    payload,
  };
  return event as unknown as UnifiedEventOf<E>;
}

/** UnifiedEvents from an NDJSON file, e.g. what `ttlp normalize < capture.ndjson` printed. */
export function parseEventLines(text: string): UnifiedEvent[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as UnifiedEvent);
}
