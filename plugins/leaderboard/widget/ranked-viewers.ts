/**
 * The leaderboard plugin's state as its widget reads it (plugins/leaderboard/README.md), checked
 * field by field.
 */
import { asCount as count, asRecord as record, asText as text, safeImageUrl } from '@ttlp/sdk/widget';

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
