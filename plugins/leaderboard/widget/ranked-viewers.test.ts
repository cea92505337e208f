import { describe, expect, it } from 'vitest';
import { parseLeaderboard } from './ranked-viewers.ts';

describe('the leaderboard widget', () => {
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
});
