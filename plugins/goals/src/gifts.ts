/** How gift messages turn into coins, with every gift streak counted once. */
import type { UnifiedEventOf } from '@ttlp/sdk';

/** Streaks remembered. A running streak moves to the end on every message, so it is not the one dropped. */
export const MAX_STREAKS = 256;

/**
 * The streak a gift message belongs to: its messages share the sender and groupId (and the gift,
 * so two gifts in one group can never hide each other). Undefined for a message that is not part
 * of a streak that can be followed.
 */
export function streakKey(event: UnifiedEventOf<'GIFT'>): string | undefined {
  const payload = event.payload;
  if (!payload?.isGiftStreak || payload.groupId === undefined) return undefined;
  return `${event.user.userId}:${payload.groupId}:${payload.giftId}`;
}

/**
 * Coins a gift message adds to the total. Each message of a streak carries the streak's running
 * coins, and messages can arrive out of order, so a streak message adds only what goes beyond the
 * highest coins counted for its streak: the bar moves as the streak runs and the streak ends up
 * counted once with its final coins. `streaks` (streak key → coins counted) is updated.
 */
export function giftCoins(streaks: Record<string, number>, event: UnifiedEventOf<'GIFT'>): number {
  const payload = event.payload;
  if (!payload) return 0;
  const key = streakKey(event);
  if (key === undefined) {
    // Without a groupId the messages of a streak cannot be matched up: only its last one counts, with the total.
    return payload.isGiftStreak && !payload.streakEnd ? 0 : payload.coins;
  }
  const counted = streaks[key] ?? 0;
  // Re-inserting keeps the object in least-recently-updated order (string keys keep insertion order).
  delete streaks[key];
  streaks[key] = Math.max(counted, payload.coins);
  for (const oldest of Object.keys(streaks).slice(0, -MAX_STREAKS)) delete streaks[oldest];
  return Math.max(0, payload.coins - counted);
}
