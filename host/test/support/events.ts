/** Valid UnifiedEvents for store tests, with the `ingestSeq` (D-017) the storage writer reads. */
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import { computeEventId } from '../../src/normalize/event-id.ts';

export const TEST_STREAM_ID = '7666766752591078691';

export interface TestEventInit {
  sessionId: string;
  seqNo: number | string;
  streamId?: string;
  userId?: string;
  uniqueId?: string;
  displayName?: string;
  timestamp?: string;
  source?: 'live' | 'replay';
  /** Defaults to seqNo; null leaves ingestSeq out. */
  ingestSeq?: string | null;
}

function common(init: TestEventInit, rawType: string) {
  const streamId = init.streamId ?? TEST_STREAM_ID;
  const seqNo = String(init.seqNo);
  const ingestSeq = init.ingestSeq === undefined ? seqNo : init.ingestSeq;
  return {
    schemaVersion: '1' as const,
    eventId: computeEventId(streamId, init.sessionId, seqNo, rawType),
    streamId,
    sessionId: init.sessionId,
    timestamp: init.timestamp ?? '2026-11-25T18:00:00.000Z',
    source: init.source ?? 'live',
    ingestedAt: '2026-11-25T18:00:00.250Z',
    seqNo,
    rawType,
    ...(ingestSeq === null ? {} : { ingestSeq }),
  };
}

export function chatEvent(init: TestEventInit, message = `hello ${init.seqNo}`): UnifiedEvent {
  const userId = init.userId ?? '6812345678901234567';
  return {
    ...common(init, 'WebcastChatMessage'),
    eventType: 'CHAT',
    triggerId: 1,
    user: {
      userId,
      uniqueId: init.uniqueId ?? `viewer_${userId}`,
      ...(init.displayName === undefined ? {} : { displayName: init.displayName }),
    },
    payload: { message },
  };
}

export function connectedEvent(init: TestEventInit): UnifiedEvent {
  return {
    ...common(init, 'connected'),
    eventType: 'CONNECTED',
    triggerId: 10,
    user: { userId: '0', uniqueId: 'system' },
    payload: { isConnected: true, provider: 'demo' },
  };
}

export function giftEvent(init: TestEventInit): UnifiedEvent {
  const userId = init.userId ?? '6812345678901234567';
  return {
    ...common(init, 'WebcastGiftMessage'),
    eventType: 'GIFT',
    triggerId: 2,
    user: { userId, uniqueId: init.uniqueId ?? `viewer_${userId}` },
    payload: { giftId: 5655, giftName: 'Rose', giftCount: 1, coins: 1, diamondCount: 1 },
  };
}
