/** What the goals have counted in one session, as plain JSON so it is stored in kv as it is. */
import type { UnifiedEventOf } from '@ttlp/sdk';
import { giftCoins } from './gifts.ts';

export type Progress = {
  likes: number;
  follows: number;
  coins: number;
  /** Streak key → the highest running coins counted for it, least recently updated first. */
  streaks: Record<string, number>;
  /** The latest counted events (id prefixes): the bus delivers at least once, so an event can come again. */
  seen: string[];
  /** Goal id → the target its "reached" message was sent for. */
  announced: Record<string, number>;
};

/** Comfortably more than a bus batch (100 events), which is what comes again after a crash. */
const MAX_SEEN = 256;
/** 64 bits of the sha256 eventId tell a session's recent events apart and keep the kv record small. */
const SEEN_ID_LENGTH = 16;

/** The events the goals count. */
export type CountedEvent = UnifiedEventOf<'LIKE' | 'FOLLOW' | 'GIFT'>;

export function emptyProgress(): Progress {
  return { likes: 0, follows: 0, coins: 0, streaks: {}, seen: [], announced: {} };
}

/** Counts an event into `progress`; false when it changed no total. */
export function countEvent(progress: Progress, event: CountedEvent): boolean {
  const id = event.eventId.slice(0, SEEN_ID_LENGTH);
  if (progress.seen.includes(id)) return false;
  let added: number;
  switch (event.eventType) {
    case 'LIKE':
      added = event.payload?.likeCount ?? 0;
      progress.likes += added;
      break;
    case 'FOLLOW':
      added = 1;
      progress.follows += added;
      break;
    case 'GIFT':
      added = giftCoins(progress.streaks, event);
      progress.coins += added;
      break;
  }
  if (added === 0) return false;
  progress.seen.push(id);
  if (progress.seen.length > MAX_SEEN) progress.seen.shift();
  return true;
}
