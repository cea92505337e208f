import { describe, expect, it } from 'vitest';
import { RecentKeys } from './recent-keys.ts';

describe('RecentKeys', () => {
  it('reports keys seen before and forgets the oldest beyond its capacity', () => {
    const keys = new RecentKeys(2);
    expect([keys.add('a'), keys.add('b'), keys.add('a')]).toEqual([true, true, false]);
    keys.add('c');
    expect([keys.has('a'), keys.has('b'), keys.has('c')]).toEqual([false, true, true]);
    expect(keys.add('a')).toBe(true);
  });
});
