import { describe, expect, it } from 'vitest';
import { makeEvent } from '@ttlp/sdk/testing';
import { Leaderboard } from '../src/board.ts';

const ALICE = '6800000000000000001';
const BOB = '6800000000000000002';
const T0 = Date.parse('2026-01-01T20:00:00.000Z');

const rose = (userId: string, count: number, at: number, end = false) =>
  makeEvent(
    'GIFT',
    { giftId: 5655, giftName: 'Rose', giftCount: count, coins: count, diamondCount: 1, isGiftStreak: true, streakActive: !end, streakEnd: end, groupId: '1700000000001' },
    { user: { userId }, timestamp: new Date(T0 + at).toISOString() },
  );

describe('Leaderboard', () => {
  it('credits each viewer what their streak messages add, a streak closed by its timeout only beyond its coins', () => {
    const board = new Leaderboard(1000);
    const changed = [rose(ALICE, 2, 0), rose(BOB, 1, 100), rose(ALICE, 1, 200), rose(ALICE, 2, 5000, true), rose(ALICE, 5, 5100, true)].map((event) =>
      board.addGift(event),
    );
    expect(changed).toEqual([true, true, false, false, true]);
    expect(board.top(10).gifters.map((gifter) => [gifter.userId, gifter.coins])).toEqual([
      [ALICE, 5],
      [BOB, 1],
    ]);
  });

  it('counts an event delivered twice once', () => {
    const board = new Leaderboard(1000);
    const like = makeEvent('LIKE', { likeCount: 4, totalLikeCount: 4 }, { user: { userId: BOB } });
    expect([board.addLike(like), board.addLike(like)]).toEqual([true, false]);
    expect(board.top(10).likers.map((liker) => liker.likes)).toEqual([4]);
  });
});
