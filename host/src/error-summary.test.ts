import { describe, expect, it } from 'vitest';
import { errorSummary } from './error-summary.ts';

describe('errorSummary', () => {
  it('names the innermost cause and its code, not the wrapper that quotes the query and its parameters', () => {
    const driver = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const wrapper = new Error('Failed query: INSERT INTO events …\nparams: [{"user":{"displayName":"Viewer"}}]', { cause: driver });
    expect(errorSummary(wrapper)).toBe('57P01: terminating connection due to administrator command');
  });

  it('keeps one line, bounded in length, and copes with non-errors', () => {
    expect(errorSummary(new Error(`first line\nsecond line`))).toBe('first line');
    expect(errorSummary(new Error('x'.repeat(1000))).length).toBe(300);
    expect(errorSummary('plain text')).toBe('plain text');
  });
});
