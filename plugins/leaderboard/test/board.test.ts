import { describe, expect, it } from 'vitest';
import { makeEvent } from '@ttlp/sdk/testing';
import { Leaderboard } from '../src/board.ts';

const ALICE = '6800000000000000001';

const rose = (count: number, end = false) =>
  makeEvent(
    'GIFT',
    { giftId: 5655, giftName: 'Rose', giftCount: count, coins: count, diamondCount: 1, isGiftStreak: true, streakActive: !end, streakEnd: end, groupId: '1700000000001' },
    { user: { userId: ALICE } },
  );

describe('Leaderboard streak deadlines', () => {
  it('moves a streak deadline back with each message and closes it once the timeout passed', () => {
    const board = new Leaderboard(1000);
    expect(board.nextDeadline()).toBeUndefined();
    board.addGift(rose(1), 0);
    board.addGift(rose(2), 600);
    expect(board.nextDeadline()).toBe(1600);
    expect(board.closeExpired(1599)).toBe(0);
    expect(board.closeExpired(1600)).toBe(1);
    expect(board.nextDeadline()).toBeUndefined();
    expect(board.top(10).gifters.map((gifter) => gifter.coins)).toEqual([2]);
  });

  it('adds only the coins beyond a closed streak, and nothing for its end at the same coins', () => {
    const board = new Leaderboard(1000);
    board.addGift(rose(2), 0);
    board.closeExpired(5000);
    expect(board.addGift(rose(2, true), 5001)).toBe(false);
    expect(board.addGift(rose(5, true), 5002)).toBe(true);
    expect(board.nextDeadline()).toBeUndefined();
    expect(board.top(10).gifters.map((gifter) => gifter.coins)).toEqual([5]);
  });

  it('closes a streak at its end message, leaving no deadline', () => {
    const board = new Leaderboard(1000);
    board.addGift(rose(1), 0);
    board.addGift(rose(3, true), 10);
    expect(board.nextDeadline()).toBeUndefined();
    expect(board.top(10).gifters.map((gifter) => gifter.coins)).toEqual([3]);
  });
});
