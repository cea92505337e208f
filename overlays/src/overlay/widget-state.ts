/**
 * Channel states of the goals, leaderboard and counters widgets, checked field by field
 * (plugins/goals/README.md, plugins/leaderboard/README.md, the host's `host/counters`).
 */
import { safeImageUrl } from './widget-options.ts';

const record = (value: unknown): Record<string, unknown> | null =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
const count = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
const text = (value: unknown, max: number): string => (typeof value === 'string' ? value.slice(0, max) : '');

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

export interface RankedViewer {
  key: string;
  name: string;
  avatarUrl: string | null;
  value: number;
}

function rankedList(list: unknown, valueKey: 'coins' | 'likes'): RankedViewer[] {
  if (!Array.isArray(list)) return [];
  const rows: RankedViewer[] = [];
  for (const item of list.slice(0, 100)) {
    const row = record(item);
    const value = count(row?.[valueKey]);
    if (row === null || value === null) continue;
    const uniqueId = text(row.uniqueId, 128);
    rows.push({
      key: text(row.userId, 128) || uniqueId || String(rows.length),
      name: text(row.displayName, 64) || uniqueId || '?',
      avatarUrl: safeImageUrl(row.avatarUrl),
      value,
    });
  }
  return rows;
}

export interface LeaderboardView {
  gifters: RankedViewer[];
  likers: RankedViewer[];
}

export function parseLeaderboard(state: unknown): LeaderboardView {
  const board = record(state);
  return { gifters: rankedList(board?.gifters, 'coins'), likers: rankedList(board?.likers, 'likes') };
}

export interface CountersView {
  likes: number | null;
  viewers: number | null;
  follows: number | null;
  shares: number | null;
  coins: number | null;
}

export function parseCounters(state: unknown): CountersView | null {
  const counters = record(state);
  if (counters === null) return null;
  return {
    likes: count(counters.likes),
    viewers: count(counters.viewers),
    follows: count(counters.follows),
    shares: count(counters.shares),
    coins: count(counters.coins),
  };
}
