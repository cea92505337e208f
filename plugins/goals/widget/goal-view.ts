/**
 * The goals plugin's state and messages as the goals widget reads them (plugins/goals/README.md),
 * checked field by field.
 */
import { asCount as count, asRecord as record, asText as text } from '@ttlp/sdk/widget';

export interface GoalView {
  id: string;
  kind: string;
  title: string;
  current: number;
  target: number;
  /** 0–100, rounded down: 100 exactly when reached, so a reached goal's bar is always full. */
  percent: number;
  reached: boolean;
}

export function parseGoals(state: unknown): GoalView[] {
  const goals = record(state)?.goals;
  if (!Array.isArray(goals)) return [];
  const views: GoalView[] = [];
  for (const item of goals.slice(0, 50)) {
    const goal = record(item);
    const current = count(goal?.current);
    const target = count(goal?.target);
    if (goal === null || typeof goal.id !== 'string' || current === null || target === null) continue;
    const reached = goal.reached === true || (target > 0 && current >= target);
    const computed = target > 0 ? (current / target) * 100 : 0;
    const percent = reached ? 100 : Math.min(99, Math.floor(count(goal.percent) ?? computed));
    views.push({
      id: goal.id,
      kind: text(goal.kind, 32),
      title: text(goal.title, 100) || text(goal.kind, 32) || goal.id,
      current,
      target,
      percent,
      reached,
    });
  }
  return views;
}

/**
 * The numbers beside a goal's title: "412 / 1,000" on the way, and once reached the real count
 * alone ("2,001"), since a done label says the target was met and "2,001 / 1,000" reads as an error.
 */
export function goalNumbers(goal: Pick<GoalView, 'current' | 'target' | 'reached'>, numbers: Intl.NumberFormat): string {
  return goal.reached ? numbers.format(goal.current) : `${numbers.format(goal.current)} / ${numbers.format(goal.target)}`;
}

/** The goal id of a `reached` message, or null. */
export function reachedGoalId(message: unknown): string | null {
  const data = record(message);
  return data?.type === 'reached' && typeof data.goalId === 'string' ? data.goalId : null;
}
