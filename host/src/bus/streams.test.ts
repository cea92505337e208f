import { describe, expect, it } from 'vitest';
import { compareStreamIds, encodePayload, nextPosition, parseStreamId } from './streams.ts';

describe('stream ids', () => {
  it('compare as numbers, milliseconds first, never as strings', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('5-9', '5-10')).toBeLessThan(0);
    expect(compareStreamIds('6-0', '5-99')).toBeGreaterThan(0);
    expect(compareStreamIds('7-3', '7-3')).toBe(0);
    expect(compareStreamIds('7', '7-0')).toBe(0);
  });

  it('reject what is not an id', () => {
    expect(() => parseStreamId('abc')).toThrow(TypeError);
    expect(() => parseStreamId('1-2-3')).toThrow(TypeError);
  });

  it('grow within one millisecond and when the clock goes back', () => {
    expect(nextPosition({ ms: 100, seq: 4 }, 100)).toEqual({ ms: 100, seq: 5 });
    expect(nextPosition({ ms: 100, seq: 4 }, 99)).toEqual({ ms: 100, seq: 5 });
    expect(nextPosition({ ms: 100, seq: 4 }, 101)).toEqual({ ms: 101, seq: 0 });
  });
});

describe('payloads', () => {
  it('are JSON text, and what JSON cannot carry is refused', () => {
    expect(encodePayload({ a: [1, null] })).toBe('{"a":[1,null]}');
    expect(() => encodePayload(1n)).toThrow(TypeError);
    expect(() => encodePayload(() => 1)).toThrow(TypeError);
  });
});
