import { describe, expect, it } from 'vitest';
import { parseCounters } from './counters-view.ts';

describe('the counters widget', () => {
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
