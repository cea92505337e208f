import { describe, expect, it } from 'vitest';
import { nounFor } from './count-nouns.ts';

const like = { one: 'like', other: 'likes' };

describe('count nouns', () => {
  it('says "like" after exactly one and "likes" after any other count', () => {
    expect([0, 1, 2, 11, 21, 1000, 1.5].map((count) => `${count} ${nounFor(count, like)}`)).toEqual([
      '0 likes',
      '1 like',
      '2 likes',
      '11 likes',
      '21 likes',
      '1000 likes',
      '1.5 likes',
    ]);
  });

  it('picks the English form whatever locale formats the number', () => {
    // French counts 0 as singular; the nouns are English, so English decides.
    const numbers = new Intl.NumberFormat('fr-FR');
    expect([0, 1, 12345].map((count) => `${numbers.format(count)} ${nounFor(count, like)}`)).toEqual([
      '0 likes',
      '1 like',
      `${numbers.format(12345)} likes`,
    ]);
    expect(numbers.format(12345)).not.toBe('12345');
  });
});
