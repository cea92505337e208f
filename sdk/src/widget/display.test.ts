import { describe, expect, it } from 'vitest';
import { asCount, asRecord, asText, nounFor, safeImageUrl } from './display.ts';

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

describe('what a widget shows of the data it receives', () => {
  it('shows only absolute http(s) pictures', () => {
    expect(safeImageUrl('https://p16.tiktokcdn.com/a.webp')).toBe('https://p16.tiktokcdn.com/a.webp');
    expect(safeImageUrl('javascript:alert(1)')).toBeNull();
    expect(safeImageUrl('data:image/png;base64,AAAA')).toBeNull();
    expect(safeImageUrl('/relative.png')).toBeNull();
    expect(safeImageUrl(`https://x/${'a'.repeat(2048)}`)).toBeNull();
    expect(safeImageUrl(42)).toBeNull();
  });

  it('reads records, counts and text defensively', () => {
    expect(asRecord({ a: 1 })).toEqual({ a: 1 });
    expect([asRecord([]), asRecord(null), asRecord('x')]).toEqual([null, null, null]);
    expect([asCount(3), asCount(0), asCount(-1), asCount(Number.NaN), asCount(Infinity), asCount('3')]).toEqual([3, 0, null, null, null, null]);
    expect([asText('hello', 3), asText(5, 3)]).toEqual(['hel', '']);
  });
});
