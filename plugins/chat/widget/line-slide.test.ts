import { describe, expect, it } from 'vitest';
import { lineSlideStyle } from './line-slide.ts';

const box = { height: 52, paddingTop: 8, paddingBottom: 8, opacity: 0.75, gap: 8 };
const styleOf = (t: number) =>
  Object.fromEntries(
    lineSlideStyle(box, t)
      .split('; ')
      .map((declaration) => declaration.split(': ') as [string, string]),
  );

describe('chat line slide', () => {
  it('takes no room at the start: no height, no padding, and the gap beside it taken back', () => {
    expect(styleOf(0)).toEqual({
      overflow: 'hidden',
      'min-height': '0',
      height: '0px',
      'padding-top': '0px',
      'padding-bottom': '0px',
      'margin-top': '-8px',
      opacity: '0',
    });
  });

  it('ends with the box as laid out', () => {
    expect(styleOf(1)).toMatchObject({ height: '52px', 'padding-top': '8px', 'padding-bottom': '8px', 'margin-top': '0px', opacity: '0.75' });
  });

  it('grows the room it takes (height, padding and gap) steadily with t', () => {
    const room = (t: number) => {
      const style = styleOf(t);
      return ['height', 'margin-top'].reduce((sum, property) => sum + Number.parseFloat(style[property]!), box.gap);
    };
    const steps = Array.from({ length: 11 }, (_, index) => room(index / 10));
    expect(steps[0]).toBe(0);
    expect(steps.at(-1)).toBe(box.height + box.gap);
    steps.slice(1).forEach((value, index) => expect(value).toBeGreaterThan(steps[index]!));
  });
});
