/** Which gift messages belong to one streak. */
import type { UnifiedEventOf } from '@ttlp/sdk';

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
