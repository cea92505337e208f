/** The configured goals, and how they look with a session's progress. */
import type { Progress } from './progress.ts';

export type GoalKind = 'likes' | 'follows' | 'coins';

export type Goal = { id: string; kind: GoalKind; target: number; title: string };

/** A goal as the overlay shows it. */
export type GoalView = Goal & { current: number; percent: number; reached: boolean };

/** The goals with the first of each id; the ids that were repeated. */
export function distinctGoals(goals: readonly Goal[]): { goals: Goal[]; repeated: string[] } {
  const distinct: Goal[] = [];
  const repeated = new Set<string>();
  for (const goal of goals) {
    if (distinct.some((kept) => kept.id === goal.id)) repeated.add(goal.id);
    else distinct.push(goal);
  }
  return { goals: distinct, repeated: [...repeated] };
}

export function goalViews(goals: readonly Goal[], progress: Progress): GoalView[] {
  return goals.map((goal) => {
    const current = progress[goal.kind];
    // Rounded down, so 100 % is only shown once the goal is reached.
    const percent = Math.min(100, Math.floor((current * 100) / goal.target));
    return { id: goal.id, kind: goal.kind, title: goal.title, current, target: goal.target, percent, reached: current >= goal.target };
  });
}

/** Goals reached that were not announced yet for their current target (a raised target is announced again). */
export function unannounced(goals: readonly Goal[], progress: Progress): GoalView[] {
  return goalViews(goals, progress).filter((goal) => goal.reached && progress.announced[goal.id] !== goal.target);
}
