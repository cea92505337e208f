import { describe, expect, it } from 'vitest';
import { parseCounters, parseGoals, parseLeaderboard, reachedGoalId } from './widget-state.ts';

describe('widget states', () => {
  it('reads the goals state', () => {
    expect(
      parseGoals({
        goals: [
          { id: 'likes', kind: 'likes', title: 'Likes', current: 412, target: 1000, percent: 41, reached: false },
          { id: 'coins', kind: 'coins', title: '', current: 600, target: 500, percent: 100, reached: true },
          { id: 'bad', current: 'x', target: 1 },
        ],
      }),
    ).toEqual([
      { id: 'likes', kind: 'likes', title: 'Likes', current: 412, target: 1000, percent: 41, reached: false },
      { id: 'coins', kind: 'coins', title: 'coins', current: 600, target: 500, percent: 100, reached: true },
    ]);
    expect(parseGoals(null)).toEqual([]);
    expect(reachedGoalId({ type: 'reached', goalId: 'likes' })).toBe('likes');
    expect(reachedGoalId({ type: 'other', goalId: 'likes' })).toBeNull();
  });

  it('reads the leaderboard state', () => {
    const board = parseLeaderboard({
      gifters: [{ userId: '1', uniqueId: 'a', displayName: 'A', avatarUrl: 'https://x/a.png', coins: 23 }],
      likers: [{ userId: '2', uniqueId: 'b', displayName: '', avatarUrl: null, likes: 15 }, { userId: '3' }],
    });
    expect(board).toEqual({
      gifters: [{ key: '1', name: 'A', avatarUrl: 'https://x/a.png', value: 23 }],
      likers: [{ key: '2', name: 'b', avatarUrl: null, value: 15 }],
    });
    expect(parseLeaderboard(undefined)).toEqual({ gifters: [], likers: [] });
  });

  it('reads the host counters, viewers possibly unknown', () => {
    expect(parseCounters({ sessionId: 's', likes: 10, viewers: null, follows: 1, shares: 0, coins: 5 })).toEqual({
      likes: 10,
      viewers: null,
      follows: 1,
      shares: 0,
      coins: 5,
    });
    expect(parseCounters(null)).toBeNull();
  });
});
