import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { contractDocuments } from './documents.ts';
import { EVENT_TYPES, FOLLOW_DISPLAY_TYPE, SHARE_DISPLAY_TYPE, TRIGGER_IDS, type EventType } from './constants.ts';
import { validateCaptureLine, validateRawEnvelope, validateUnifiedEvent } from './validate.ts';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const docsDir = new URL('../../../docs/contracts/', import.meta.url);

const base = {
  schemaVersion: '1',
  eventId: 'ab'.repeat(32),
  streamId: '7666766752591078691',
  sessionId: '3b241101-e2bb-4255-8caf-4136c566a962',
  timestamp: '2023-10-18T13:10:22.560Z',
  source: 'live',
  user: { userId: '7054185718220152420', uniqueId: 'viewer_c453c496' },
};
const giftPayload = { giftId: 5655, giftName: 'Rose', giftCount: 4, coins: 4 };
/** The smallest valid payload of each event type. */
const minimalPayloads: Record<EventType, object> = {
  CHAT: { message: 'hi' },
  GIFT: giftPayload,
  LIKE: { likeCount: 1, totalLikeCount: 1 },
  FOLLOW: { displayType: FOLLOW_DISPLAY_TYPE },
  SHARE: { displayType: SHARE_DISPLAY_TYPE },
  JOIN: {},
  SUBSCRIBE: {},
  EMOTE: { emoteId: '1' },
  BATTLE: {},
  CONNECTED: {},
  DISCONNECTED: {},
  ERROR: { message: 'hi' },
  RAW: { rawType: 'WebcastTestMessage' },
};

describe('published contract files', () => {
  it.each(Object.keys(contractDocuments()))('docs/contracts/%s is what the TypeBox source generates', (name) => {
    const committed = readFileSync(new URL(name, docsDir), 'utf8');
    expect(committed, `run "npm run contracts" to regenerate ${name}`).toBe(contractDocuments()[name]);
  });

  it('the published schema discriminates on eventType even for validators that ignore "discriminator"', () => {
    const plain = new Ajv({ strict: false });
    addFormats(plain);
    const schema = JSON.parse(readFileSync(new URL('unified-event.v1.schema.json', docsDir), 'utf8'));
    const validate = plain.compile(schema);
    expect(validate({ ...base, eventType: 'CHAT', triggerId: 1, payload: { message: 'hi' } })).toBe(true);
    expect(validate({ ...base, eventType: 'ERROR', triggerId: 12, payload: { message: 'hi' } })).toBe(true);
    expect(validate({ ...base, eventType: 'CHAT', triggerId: 1, payload: giftPayload })).toBe(false);
    expect(validate({ ...base, eventType: 'GIFT', triggerId: 2, payload: giftPayload })).toBe(true);
  });
});

describe('UnifiedEvent v1 validation', () => {
  it('accepts a minimal CHAT payload and the same minimal payload as ERROR', () => {
    expect(validateUnifiedEvent({ ...base, eventType: 'CHAT', triggerId: 1, payload: { message: 'hi' } }).ok).toBe(true);
    expect(validateUnifiedEvent({ ...base, eventType: 'ERROR', triggerId: 12, payload: { message: 'hi' } }).ok).toBe(true);
  });

  it('rejects a CHAT event that carries a GIFT payload, naming the problem', () => {
    const result = validateUnifiedEvent({ ...base, eventType: 'CHAT', triggerId: 1, payload: giftPayload });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toContain("/payload must have required property 'message'");
  });

  it('rejects a GIFT payload missing a required field', () => {
    const { coins: _coins, ...withoutCoins } = giftPayload;
    expect(validateUnifiedEvent({ ...base, eventType: 'GIFT', triggerId: 2, payload: withoutCoins }).ok).toBe(false);
  });

  it.each(EVENT_TYPES)('pins the triggerId of %s', (eventType) => {
    const wrong = (TRIGGER_IDS[eventType] % 13) + 1;
    const result = validateUnifiedEvent({ ...base, eventType, triggerId: wrong, payload: minimalPayloads[eventType] });
    expect(result.ok).toBe(false);
    expect(validateUnifiedEvent({ ...base, eventType, triggerId: TRIGGER_IDS[eventType], payload: minimalPayloads[eventType] }).ok).toBe(true);
  });

  it.each(EVENT_TYPES)('requires the payload of %s', (eventType) => {
    const result = validateUnifiedEvent({ ...base, eventType, triggerId: TRIGGER_IDS[eventType] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('; ')).toContain("must have required property 'payload'");
  });

  it('rejects unknown event types, bad ids and bad times', () => {
    expect(validateUnifiedEvent({ ...base, eventType: 'SOCIAL', triggerId: 4 }).ok).toBe(false);
    expect(validateUnifiedEvent({ ...base, eventType: 'RAW', triggerId: 13, eventId: 'AB'.repeat(32), payload: { rawType: 'X' } }).ok).toBe(false);
    expect(validateUnifiedEvent({ ...base, eventType: 'RAW', triggerId: 13, sessionId: 'nope', payload: { rawType: 'X' } }).ok).toBe(false);
    expect(validateUnifiedEvent({ ...base, eventType: 'RAW', triggerId: 13, timestamp: 'yesterday', payload: { rawType: 'X' } }).ok).toBe(false);
  });

  it('keeps the top level open (rawType and later additions) but payloads closed', () => {
    const event = { ...base, eventType: 'LIKE', triggerId: 3, rawType: 'WebcastLikeMessage', extra: 1, payload: { likeCount: 1, totalLikeCount: 5 } };
    expect(validateUnifiedEvent(event).ok).toBe(true);
    expect(validateUnifiedEvent({ ...event, payload: { ...event.payload, giftId: 1 } }).ok).toBe(false);
  });

  it('requires the system or a real user on every event', () => {
    const { user: _user, ...withoutUser } = base;
    expect(validateUnifiedEvent({ ...withoutUser, eventType: 'CONNECTED', triggerId: 10, payload: {} }).ok).toBe(false);
    expect(validateUnifiedEvent({ ...base, user: { userId: '1', uniqueId: 'x', followRole: 3 }, eventType: 'JOIN', triggerId: 6, payload: {} }).ok).toBe(false);
  });
});

describe('raw.v1 and capture v1 validation', () => {
  const envelope = {
    schemaVersion: 'raw.v1',
    streamId: '1',
    sessionId: base.sessionId,
    source: 'live',
    type: 'WebcastChatMessage',
    seqNo: '1',
    timestamp: base.timestamp,
    ingestedAt: base.timestamp,
    data: {},
  };

  it('accepts a complete envelope and rejects one without a type', () => {
    expect(validateRawEnvelope(envelope).ok).toBe(true);
    const { type: _type, ...withoutType } = envelope;
    const result = validateRawEnvelope(withoutType);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join()).toContain("'type'");
  });

  it('accepts a capture line and rejects non-base64 proto', () => {
    expect(validateCaptureLine({ ts: base.timestamp, type: 'WebcastChatMessage', proto: 'CgQ=' }).ok).toBe(true);
    expect(validateCaptureLine({ ts: base.timestamp, type: 'WebcastChatMessage', proto: '***' }).ok).toBe(false);
    expect(validateCaptureLine({ ts: base.timestamp, type: 'ChatMessage', proto: '' }).ok).toBe(false);
  });
});
