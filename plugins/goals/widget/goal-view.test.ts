import { describe, expect, it } from 'vitest';
import { goalNumbers, parseGoals, reachedGoalId } from './goal-view.ts';

describe('the goals widget', () => {
  it('reads the goals state', () => {
    expect(
      parseGoals({
        goals: [
          { id: 'likes', kind: 'likes', title: 'Likes', current: 412, target: 1000, percent: 41, reached: false },
          { id: 'coins', kind: 'coins', title: '', current: 600, target: 500, percent: 100, reached: true },
          { id: 'bad', current: 'x', target: 1 },
        ],
      }),
    ).toEqual([
      { id: 'likes', kind: 'likes', title: 'Likes', current: 412, target: 1000, percent: 41, reached: false },
      { id: 'coins', kind: 'coins', title: 'coins', current: 600, target: 500, percent: 100, reached: true },
    ]);
    expect(parseGoals(null)).toEqual([]);
    expect(reachedGoalId({ type: 'reached', goalId: 'likes' })).toBe('likes');
    expect(reachedGoalId({ type: 'other', goalId: 'likes' })).toBeNull();
  });

  it('fills the bar of a reached goal, and only of a reached one', () => {
    const [overshot, flagged, almost, claimsFull] = parseGoals({
      goals: [
        { id: 'a', current: 2001, target: 1000, percent: 100, reached: true },
        // Reached by the plugin's word though its state lags behind.
        { id: 'b', current: 998, target: 1000, percent: 99, reached: true },
        { id: 'c', current: 999, target: 1000 },
        { id: 'd', current: 10, target: 1000, percent: 100, reached: false },
      ],
    });
    expect([overshot, flagged, almost, claimsFull].map((goal) => [goal!.reached, goal!.percent])).toEqual([
      [true, 100],
      [true, 100],
      [false, 99],
      [false, 99],
    ]);
  });

  it('shows a reached goal as its real count, the rest as count / target in the locale format', () => {
    const numbers = new Intl.NumberFormat('en-US');
    expect(goalNumbers({ current: 412, target: 1000, reached: false }, numbers)).toBe('412 / 1,000');
    expect(goalNumbers({ current: 2001, target: 1000, reached: true }, numbers)).toBe('2,001');
    expect(goalNumbers({ current: 1000, target: 1000, reached: true }, new Intl.NumberFormat('de-DE'))).toBe('1.000');
  });
});
