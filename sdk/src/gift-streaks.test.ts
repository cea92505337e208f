import { describe, expect, it } from 'vitest';
import { GIFT_STREAK_IDLE_MS, GiftStreaks, type GiftCredit } from './gift-streaks.ts';
import { makeEvent } from './testing/events.ts';

const ALICE = '6800000000000000001';
const BOB = '6800000000000000002';
const T0 = Date.parse('2026-01-01T20:00:00.000Z');

/** One message of a streak of a 5-coin gift: `count` is the running repeat count, `at` ms after T0. */
const heart = (count: number, at: number, options: { end?: boolean; userId?: string; groupId?: string | null } = {}) =>
  makeEvent(
    'GIFT',
    {
      giftId: 5487,
      giftName: 'Finger Heart',
      giftCount: count,
      coins: count * 5,
      diamondCount: 5,
      isGiftStreak: true,
      streakActive: !options.end,
      streakEnd: options.end ?? false,
      ...(options.groupId === null ? {} : { groupId: options.groupId ?? '1701791792447' }),
    },
    { user: { userId: options.userId ?? ALICE }, timestamp: new Date(T0 + at).toISOString() },
  );
const single = (coins: number, at: number) =>
  makeEvent('GIFT', { giftId: 9333, giftName: 'Clappers', giftCount: 1, coins, diamondCount: coins, isGiftStreak: false }, { timestamp: new Date(T0 + at).toISOString() });

/** The parts of a credit a test reads, without the streak's details. */
const moment = ({ coins, gifts, opened, closed, late }: GiftCredit) => ({ coins, gifts, opened, closed, late });

describe('GiftStreaks', () => {
  it('credits a streak once with its highest total, whatever order its messages arrive in', () => {
    const orders = [
      [1, 2, 3, 4],
      [4, 3, 2, 1],
      [2, 4, 1, 3],
      [3, 3, 1, 4, 4, 2],
    ];
    for (const order of orders) {
      const streaks = new GiftStreaks();
      const credits = order.map((count, index) => streaks.add(heart(count, index * 100)));
      expect(credits.reduce((sum, credit) => sum + credit.coins, 0), `order ${order.join(',')}`).toBe(20);
      expect(credits.reduce((sum, credit) => sum + credit.gifts, 0)).toBe(4);
    }
  });

  it('tells what each message adds: above the credit so far, nothing for a duplicate or a lower count', () => {
    const streaks = new GiftStreaks();
    expect([heart(2, 0), heart(5, 100), heart(3, 200), heart(5, 300)].map((event) => moment(streaks.add(event)))).toEqual([
      { coins: 10, gifts: 2, opened: true, closed: false, late: false },
      { coins: 15, gifts: 3, opened: false, closed: false, late: false },
      { coins: 0, gifts: 0, opened: false, closed: false, late: false },
      { coins: 0, gifts: 0, opened: false, closed: false, late: false },
    ]);
  });

  it('closes a streak at its end message; a later message adds only what goes beyond it', () => {
    const streaks = new GiftStreaks();
    streaks.add(heart(3, 0));
    const end = streaks.add(heart(7, 100, { end: true }));
    expect(moment(end)).toEqual({ coins: 20, gifts: 4, opened: false, closed: true, late: false });
    expect(end.streak).toEqual({ key: `${ALICE}:1701791792447:5487`, gifts: 7, coins: 35, lastAt: T0 + 100, open: false });
    expect(moment(streaks.add(heart(5, 200)))).toEqual({ coins: 0, gifts: 0, opened: false, closed: false, late: true });
    expect(moment(streaks.add(heart(7, 300, { end: true })))).toEqual({ coins: 0, gifts: 0, opened: false, closed: false, late: true });
    expect(moment(streaks.add(heart(8, 400)))).toEqual({ coins: 5, gifts: 1, opened: false, closed: false, late: true });
  });

  it('credits a streak seen only by its end message, opened and closed at once', () => {
    const streaks = new GiftStreaks();
    expect(moment(streaks.add(heart(4, 0, { end: true })))).toEqual({ coins: 20, gifts: 4, opened: true, closed: true, late: false });
  });

  it('tells streaks apart by sender, groupId and gift', () => {
    const streaks = new GiftStreaks();
    const credits = [heart(2, 0), heart(2, 10, { userId: BOB }), heart(2, 20, { groupId: '1701791799999' }), heart(2, 30)].map((event) => streaks.add(event));
    expect(credits.map((credit) => [credit.coins, credit.opened])).toEqual([
      [10, true],
      [10, true],
      [10, true],
      [0, false],
    ]);
  });

  it('credits a gift outside streaks per message, and a streak without groupId only by its end', () => {
    const streaks = new GiftStreaks();
    expect(moment(streaks.add(single(100, 0)))).toEqual({ coins: 100, gifts: 1, opened: false, closed: false, late: false });
    expect(streaks.add(single(100, 0)).coins).toBe(100);
    expect(streaks.add(heart(2, 0, { groupId: null })).coins).toBe(0);
    const end = streaks.add(heart(6, 100, { groupId: null, end: true }));
    expect([end.coins, end.gifts, end.streak]).toEqual([30, 6, undefined]);
  });

  it('closes a streak idle for idleMs of event time, when a later message comes or when asked', () => {
    const streaks = new GiftStreaks({ idleMs: 1000 });
    streaks.add(heart(2, 0));
    streaks.add(heart(1, 500, { userId: BOB }));
    expect(streaks.nextIdleAt()).toBe(T0 + 1000);
    // Time comes from the events: a message stamped 1 s after Alice's last one closes her streak.
    const later = streaks.add(single(1, 1000));
    expect(later.ended).toEqual([{ key: `${ALICE}:1701791792447:5487`, gifts: 2, coins: 10, lastAt: T0, open: false }]);
    expect(streaks.clock).toBe(T0 + 1000);
    expect(streaks.nextIdleAt()).toBe(T0 + 1500);
    expect(streaks.closeIdle(T0 + 1499)).toEqual([]);
    expect(streaks.closeIdle(T0 + 1500).map((streak) => streak.key)).toEqual([`${BOB}:1701791792447:5487`]);
    expect(streaks.nextIdleAt()).toBeUndefined();
    // A message of the closed streak is late: it adds only coins beyond the credit, and opens nothing.
    expect(moment(streaks.add(heart(3, 1600)))).toEqual({ coins: 5, gifts: 1, opened: false, closed: false, late: true });
  });

  it('keeps its time from the newest event: an older timestamp closes nothing', () => {
    const streaks = new GiftStreaks({ idleMs: 1000 });
    streaks.add(heart(1, 5000));
    const stale = streaks.add(heart(2, 0, { userId: BOB }));
    expect(stale.ended).toEqual([]);
    expect(streaks.clock).toBe(T0 + 5000);
    expect(GIFT_STREAK_IDLE_MS).toBe(10_000);
  });

  it('remembers at most `capacity` streaks, closing the oldest open one when more are open', () => {
    const streaks = new GiftStreaks({ capacity: 3 });
    const senders = ['6800000000000000011', '6800000000000000012', '6800000000000000013', '6800000000000000014'];
    const credits = senders.map((userId, index) => streaks.add(heart(1, index, { userId })));
    expect(credits[3]!.ended.map((streak) => streak.key)).toEqual([`${senders[0]}:1701791792447:5487`]);
    expect(streaks.toJSON().streaks).toHaveLength(3);
    // The forgotten streak starts over: its credit is gone with it.
    expect(streaks.add(heart(1, 10, { userId: senders[0] })).opened).toBe(true);
    expect(streaks.toJSON().streaks).toHaveLength(3);
  });

  it('survives a round trip through JSON with the same credits', () => {
    const streaks = new GiftStreaks({ idleMs: 1000 });
    streaks.add(heart(3, 0));
    streaks.add(heart(2, 100, { userId: BOB, end: true }));
    const restored = GiftStreaks.fromJSON(JSON.parse(JSON.stringify(streaks)), { idleMs: 1000 });
    expect(restored.toJSON()).toEqual(streaks.toJSON());
    expect(restored.clock).toBe(T0 + 100);
    expect(moment(restored.add(heart(4, 200)))).toEqual({ coins: 5, gifts: 1, opened: false, closed: false, late: false });
    expect(moment(restored.add(heart(2, 300, { userId: BOB })))).toEqual({ coins: 0, gifts: 0, opened: false, closed: false, late: true });
    expect(restored.nextIdleAt()).toBe(T0 + 1200);
  });
});
