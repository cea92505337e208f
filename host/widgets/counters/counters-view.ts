/** The host's `host/counters` state as the counters widget reads it, checked field by field. */
import { asCount as count, asRecord as record } from '@ttlp/sdk/widget';

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
