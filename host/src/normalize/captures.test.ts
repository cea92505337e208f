/** The normalizer against every line of the shared, anonymized real captures. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { validateUnifiedEvent, type UnifiedEvent, type UnifiedEventOf } from '@ttlp/sdk/contract';
import { captureEnvelopes, captureFiles, readmeFacts, type DecodedLine } from '../../test/support/captures.ts';
import { normalize } from './normalize.ts';

interface Normalized extends DecodedLine {
  event: UnifiedEvent;
}

function normalizeCapture(file: string, sessionId?: string): Normalized[] {
  return captureEnvelopes(file, sessionId).map((decoded) => {
    const result = normalize(decoded.envelope);
    if (!result.ok) throw new Error(`${file}:${decoded.line} rejected: ${result.rejection.code} ${result.rejection.message}`);
    return { ...decoded, event: result.event };
  });
}

const countBy = <T>(items: T[], key: (item: T) => string) =>
  items.reduce<Record<string, number>>((acc, item) => ({ ...acc, [key(item)]: (acc[key(item)] ?? 0) + 1 }), {});

/** Webcast message types whose every message maps to one event type in these captures. */
const ONE_TO_ONE: Record<string, UnifiedEvent['eventType']> = {
  WebcastChatMessage: 'CHAT',
  WebcastGiftMessage: 'GIFT',
  WebcastLikeMessage: 'LIKE',
  WebcastSubNotifyMessage: 'SUBSCRIBE',
};

const facts = readmeFacts();
const files = captureFiles();

describe('normalizing the shared captures', () => {
  it('finds every capture file the README describes', () => {
    expect(files.sort()).toEqual(Object.keys(facts).sort());
  });

  describe.each(files)('%s', (file) => {
    const expected = facts[file]!;
    const events = normalizeCapture(file);

    it('normalizes every line to a schema-valid event', () => {
      expect(events).toHaveLength(expected.lines);
      for (const { event, line } of events) {
        const checked = validateUnifiedEvent(event);
        expect(checked.ok, `line ${line}: ${checked.ok ? '' : checked.errors.join('; ')}`).toBe(true);
      }
    });

    it('keeps the README count of every message type as rawType', () => {
      expect(countBy(events, (e) => e.event.rawType ?? '?')).toEqual(expected.byType);
    });

    it('maps each message type to the right event type', () => {
      for (const { type, event, envelope, line } of events) {
        const where = `line ${line} (${type})`;
        if (type in ONE_TO_ONE) expect(event.eventType, where).toBe(ONE_TO_ONE[type]);
        else if (type === 'WebcastSocialMessage') {
          const key = (envelope.data.common as { displayText: { key: string } }).displayText.key;
          expect(event.eventType, `${where} key ${key}`).toBe(key.includes('follow') ? 'FOLLOW' : key.includes('share') ? 'SHARE' : 'RAW');
        } else if (type === 'WebcastMemberMessage') {
          const action = (envelope.data as { action: number }).action;
          expect(event.eventType, where).toBe(action === 1 ? 'JOIN' : action === 3 ? 'SUBSCRIBE' : 'RAW');
        } else {
          expect(event.eventType, where).toBe('RAW');
          expect(event.payload).toEqual({ rawType: type, data: envelope.data });
        }
      }
    });

    it('derives eventIds exactly as D-005 says, with seqNo from msgId', () => {
      for (const { event, msgId } of events) {
        expect(event.seqNo).toBe(msgId);
        const expectedId = createHash('sha256')
          .update(`${event.streamId}:${event.sessionId}:${msgId}:${event.rawType}`)
          .digest('hex');
        expect(event.eventId).toBe(expectedId);
      }
    });

    it('shares an eventId only between re-deliveries of the same message', () => {
      const idsByMessage = new Map<string, Set<string>>();
      const messagesById = new Map<string, Set<string>>();
      for (const { event, type, msgId } of events) {
        const message = `${type}:${msgId}`;
        idsByMessage.set(message, (idsByMessage.get(message) ?? new Set()).add(event.eventId));
        messagesById.set(event.eventId, (messagesById.get(event.eventId) ?? new Set()).add(message));
      }
      for (const ids of idsByMessage.values()) expect(ids.size).toBe(1);
      for (const messages of messagesById.values()) expect(messages.size).toBe(1);
      expect(messagesById.size).toBe(expected.distinct);
      expect(events.length - messagesById.size).toBe(expected.redeliveries);
    });

    it('gives disjoint eventIds to the same capture under two sessions', () => {
      const again = normalizeCapture(file);
      const first = new Set(events.map((e) => e.event.eventId));
      expect(again.some((e) => first.has(e.event.eventId))).toBe(false);
      expect(new Set(again.map((e) => e.event.eventId)).size).toBe(first.size);
    });

    it('is deterministic for the same session', () => {
      const withoutIngestTime = ({ ingestedAt: _ingestedAt, ...rest }: UnifiedEvent) => rest;
      const again = normalizeCapture(file, events[0]!.event.sessionId);
      expect(again.map((e) => withoutIngestTime(e.event))).toEqual(events.map((e) => withoutIngestTime(e.event)));
    });

    it('sets gift streak flags from gift.type and repeatEnd, and coins = count × price', () => {
      for (const { event, envelope, line } of events) {
        if (event.eventType !== 'GIFT') continue;
        const data = envelope.data as { repeatEnd?: number; repeatCount?: number; gift: { type: number; diamondCount: number } };
        const gift = (event as UnifiedEventOf<'GIFT'>).payload!;
        const streakable = data.gift.type === 1;
        expect(gift.isGiftStreak, `line ${line}`).toBe(streakable);
        expect(gift.streakEnd, `line ${line}`).toBe(streakable && data.repeatEnd === 1);
        expect(gift.streakActive, `line ${line}`).toBe(streakable && data.repeatEnd !== 1);
        expect(gift.giftCount).toBe(Math.max(data.repeatCount ?? 0, 1));
        expect(gift.coins).toBe(gift.giftCount * data.gift.diamondCount);
      }
    });
  });
});

describe('gift streaks seen in giftsCollector.capture.ndjson', () => {
  const gifts = normalizeCapture('giftsCollector.capture.ndjson')
    .map((n) => n.event)
    .filter((e): e is UnifiedEventOf<'GIFT'> => e.eventType === 'GIFT');
  const streak = (userId: string, groupId: string) =>
    gifts
      .filter((g) => g.user.userId === userId && g.payload?.groupId === groupId)
      .map((g) => ({ name: g.payload!.giftName, count: g.payload!.giftCount, active: g.payload!.streakActive, end: g.payload!.streakEnd }));

  it('a Rose streak runs, then ends', () => {
    expect(streak('155566773273369851', '1699909166768')).toEqual([
      { name: 'Rose', count: 1, active: true, end: false },
      { name: 'Rose', count: 1, active: false, end: true },
    ]);
  });

  it('a streak whose end never arrived stays active at every step', () => {
    expect(streak('7447746459525824935', '1699909181911')).toEqual([
      { name: 'Rose', count: 1, active: true, end: false },
      { name: 'Rose', count: 2, active: true, end: false },
    ]);
  });

  it('non-streakable gifts are never part of a streak', () => {
    const clappers = gifts.filter((g) => g.payload!.giftName === 'LIVE Fest Clappers');
    expect(clappers).not.toHaveLength(0);
    for (const g of clappers) expect(g.payload).toMatchObject({ isGiftStreak: false, streakActive: false, streakEnd: false });
  });
});
