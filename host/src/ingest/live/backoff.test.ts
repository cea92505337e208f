import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.ts';

describe('Backoff', () => {
  it('doubles from 1 s to a 60 s cap by default', () => {
    const backoff = new Backoff({ random: () => 0.5 });
    expect(Array.from({ length: 9 }, () => backoff.next())).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(backoff.attempts).toBe(9);
  });

  it('spreads each delay by ±20 %', () => {
    const low = new Backoff({ random: () => 0 });
    const high = new Backoff({ random: () => 0.999999 });
    expect([low.next(), low.next()]).toEqual([800, 1_600]);
    expect([high.next(), high.next()]).toEqual([1_200, 2_400]);
    const capped = new Backoff({ random: () => 0.999999, initialMs: 60_000 });
    expect(capped.next()).toBe(72_000);
  });

  it('starts over after a reset', () => {
    const backoff = new Backoff({ random: () => 0.5, initialMs: 10, maxMs: 100 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(10);
  });

  it('refuses settings that make no sense', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => new Backoff({ factor: 0.5 })).toThrow(RangeError);
    expect(() => new Backoff({ jitter: 1 })).toThrow(RangeError);
  });
});
