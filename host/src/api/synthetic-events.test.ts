import { describe, expect, it } from 'vitest';
import type { UnifiedEventOf } from '@ttlp/sdk';
import { buildTestEvent, TEST_USER, type TestEventRequest } from './synthetic-events.ts';

const where = { streamId: '7000000000000000001', sessionId: '00000000-0000-4000-8000-000000000001' };
const build = (request: TestEventRequest) => {
  const result = buildTestEvent(request, where);
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.event;
};
const gift = (payload: Record<string, unknown>) => build({ eventType: 'GIFT', payload }) as UnifiedEventOf<'GIFT'>;

describe('test events', () => {
  it('price a gift the catalogue knows as TikTok does, for its count', () => {
    expect(gift({ giftName: 'Lion' }).payload).toMatchObject({ giftName: 'Lion', giftId: 6369, diamondCount: 29999, giftCount: 1, coins: 29999 });
    expect(gift({ giftName: 'finger heart', giftCount: 3 }).payload).toMatchObject({ giftName: 'Finger Heart', giftId: 5487, diamondCount: 5, coins: 15 });
    expect(gift({}).payload).toMatchObject({ giftName: 'Rose', giftId: 5655, diamondCount: 1, coins: 1 });
  });

  it('keep what the request says of a gift', () => {
    expect(gift({ giftName: 'Lion', coins: 5 }).payload.coins).toBe(5);
    expect(gift({ giftName: 'Mystery box', coins: 250 }).payload).toMatchObject({ giftName: 'Mystery box', coins: 250 });
  });

  it('make each viewer name a viewer of its own, the same one every time', () => {
    const ada = build({ eventType: 'CHAT', user: { displayName: 'Ada Lovelace' } }).user;
    const again = build({ eventType: 'FOLLOW', user: { displayName: 'Ada Lovelace' } }).user;
    const bo = build({ eventType: 'CHAT', user: { displayName: 'Bo' } }).user;
    expect(ada).toEqual(again);
    expect(ada).toMatchObject({ displayName: 'Ada Lovelace', userId: expect.stringMatching(/^7\d{18}$/), uniqueId: expect.stringMatching(/^ada_lovelace_[0-9a-f]{4}$/) });
    expect([bo.userId === ada.userId, bo.uniqueId === ada.uniqueId]).toEqual([false, false]);
    expect(build({ eventType: 'CHAT' }).user).toEqual(TEST_USER);
    expect(build({ eventType: 'CHAT', user: { displayName: 'Ada', uniqueId: 'ada' } }).user.uniqueId).toBe('ada');
  });
});
