import { describe, expect, it } from 'vitest';
import { validateUnifiedEvent } from '../contract/validate.ts';
import { makeEvent, parseEventLines } from './events.ts';

describe('test events', () => {
  it('makes valid events with distinct ids, narrowed by type', () => {
    const gift = makeEvent('GIFT', { giftId: 1, giftName: 'Rose', giftCount: 2, coins: 2 }, { user: { displayName: 'Ada' } });
    const connected = makeEvent('CONNECTED', { isConnected: true, provider: 'demo' });
    for (const event of [gift, connected]) expect(validateUnifiedEvent(event).ok).toBe(true);
    expect(gift.eventId).not.toBe(connected.eventId);
    expect(gift.user.displayName).toBe('Ada');
    expect(connected.user.userId).toBe('0');
  });

  it('reads NDJSON of events, as `ttlp normalize` prints it', () => {
    const events = [makeEvent('CHAT', { message: 'a' }), makeEvent('LIKE', { likeCount: 3, totalLikeCount: 9 })];
    expect(parseEventLines(`${events.map((event) => JSON.stringify(event)).join('\n')}\n\n`)).toEqual(events);
  });
});
