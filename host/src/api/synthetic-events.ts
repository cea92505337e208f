/**
 * Synthetic events for `POST /api/events/test`: any event type, with a plausible default
 * payload the caller may override, marked `test: true` and published to `events` like any other.
 * They look like real ones: a gift the catalogue knows gets its id and price (a test Lion is
 * worth 29,999 coins), and each viewer name is a viewer of its own, the same one every time.
 */
import { createHash, randomInt } from 'node:crypto';
import { EVENT_TYPES, SYSTEM_USER, TRIGGER_IDS, type EventType, type UnifiedEvent } from '@ttlp/sdk';
import { validateUnifiedEvent } from '@ttlp/sdk/contract';
import { catalogueGift } from '../ingest/gift-catalogue.ts';
import { computeEventId } from '../normalize/index.ts';

const DEFAULT_PAYLOADS: Record<EventType, Record<string, unknown>> = {
  CHAT: { message: 'Hello from a test event!' },
  GIFT: { giftId: 5655, giftName: 'Rose', giftCount: 1, coins: 1, diamondCount: 1, isGiftStreak: false, streakActive: false, streakEnd: true },
  LIKE: { likeCount: 15, totalLikeCount: 1500 },
  FOLLOW: { displayType: 'pm_mt_msg_viewer_follow' },
  SHARE: { displayType: 'pm_mt_msg_viewer_share' },
  JOIN: { viewerCount: 120 },
  SUBSCRIBE: { subMonth: 1 },
  EMOTE: { emoteId: '7000000000000000000' },
  BATTLE: { battleId: '7000000000000000000', battleStatus: 'STARTED', participants: [] },
  CONNECTED: { isConnected: true, provider: 'test' },
  DISCONNECTED: { reason: 'test event', willReconnect: true },
  ERROR: { message: 'test event' },
  RAW: { rawType: 'WebcastTestMessage', data: {} },
};

const LIFECYCLE = new Set<EventType>(['CONNECTED', 'DISCONNECTED', 'ERROR']);

export const TEST_USER = { userId: '7000000000000000042', uniqueId: 'ttlp_test_viewer', displayName: 'Test Viewer' };

export interface TestEventRequest {
  eventType: EventType;
  payload?: Record<string, unknown>;
  user?: { userId?: string; uniqueId?: string; displayName?: string };
}

export type TestEventResult = { ok: true; event: UnifiedEvent } | { ok: false; problems: string[] };

/** A gift's id and price from the catalogue, and its coins for the count, where the request leaves them out. */
function giftPayload(given: Record<string, unknown> = {}): Record<string, unknown> {
  const payload = { ...DEFAULT_PAYLOADS.GIFT, ...given };
  const gift = typeof payload.giftName === 'string' ? catalogueGift(payload.giftName) : undefined;
  if (!gift) return payload;
  const diamondCount = typeof given.diamondCount === 'number' ? given.diamondCount : gift.diamondCount;
  const giftCount = typeof payload.giftCount === 'number' ? payload.giftCount : 1;
  return {
    ...payload,
    giftName: gift.name,
    giftId: typeof given.giftId === 'number' ? given.giftId : gift.id,
    diamondCount,
    coins: typeof given.coins === 'number' ? given.coins : diamondCount * giftCount,
  };
}

/**
 * The viewer of a test event: the test viewer, or, for a name, a viewer of that name whose id and
 * handle come from it (the same name is the same viewer), unless the request gives them.
 */
function testUser(given: TestEventRequest['user']): UnifiedEvent['user'] {
  const name = given?.displayName?.trim();
  if (!name) return { ...TEST_USER, ...given };
  const digest = createHash('sha256').update(name).digest();
  const handle = name.toLowerCase().replace(/[^a-z0-9._]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 24) || 'viewer';
  return {
    userId: given?.userId ?? `7${(digest.readBigUInt64BE(0) % 10n ** 18n).toString().padStart(18, '0')}`,
    uniqueId: given?.uniqueId ?? `${handle}_${digest.toString('hex').slice(0, 4)}`,
    displayName: name,
  };
}

/** The test event, or what is wrong with the request. */
export function buildTestEvent(request: TestEventRequest, where: { streamId: string; sessionId: string }, now = new Date()): TestEventResult {
  if (!EVENT_TYPES.includes(request.eventType)) return { ok: false, problems: [`unknown event type ${request.eventType}`] };
  // At most 19 digits (the contract allows 20), random enough never to meet another test event's.
  const seqNo = String(randomInt(1, 2 ** 40)) + String(randomInt(0, 1_000_000)).padStart(6, '0');
  const rawType = 'TestEvent';
  const candidate = {
    schemaVersion: '1',
    eventId: computeEventId(where.streamId, where.sessionId, seqNo, rawType),
    eventType: request.eventType,
    triggerId: TRIGGER_IDS[request.eventType],
    streamId: where.streamId,
    sessionId: where.sessionId,
    timestamp: now.toISOString(),
    ingestedAt: now.toISOString(),
    source: 'live',
    seqNo,
    rawType,
    test: true,
    user: LIFECYCLE.has(request.eventType) ? { ...SYSTEM_USER } : testUser(request.user),
    payload: request.eventType === 'GIFT' ? giftPayload(request.payload) : { ...DEFAULT_PAYLOADS[request.eventType], ...request.payload },
  };
  const checked = validateUnifiedEvent(candidate);
  return checked.ok ? { ok: true, event: checked.value } : { ok: false, problems: checked.errors };
}
