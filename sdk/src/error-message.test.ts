import { describe, expect, it } from 'vitest';
import { messageOf } from './error-message.ts';

describe('messageOf', () => {
  it("answers an Error's own message (no name, no stack) and anything else as text", () => {
    expect(messageOf(new TypeError('bad input'))).toBe('bad input');
    expect(messageOf('plain text')).toBe('plain text');
    expect(messageOf(404)).toBe('404');
    expect(messageOf(undefined)).toBe('undefined');
  });
});
