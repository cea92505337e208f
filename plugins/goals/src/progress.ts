/** What the goals have counted in one session, as plain JSON so it is stored in kv as it is. */
import { GiftStreaks, type GiftStreaksState, type UnifiedEventOf } from '@ttlp/sdk';

export type Progress = {
  likes: number;
  follows: number;
  coins: number;
  /** The gift streaks credited so far, as of the last save (`Tally.gifts` between saves). */
  giftStreaks?: GiftStreaksState;
  /** The latest counted events (id prefixes): the bus delivers at least once, so an event can come again. */
  seen: string[];
  /** Goal id → the target its "reached" message was sent for. */
  announced: Record<string, number>;
};

/** A session's progress with the streaks behind its coins. */
export type Tally = { progress: Progress; gifts: GiftStreaks };

/** Comfortably more than a bus batch (100 events), which is what comes again after a crash. */
const MAX_SEEN = 256;
/** 64 bits of the sha256 eventId tell a session's recent events apart and keep the kv record small. */
const SEEN_ID_LENGTH = 16;
/** Streaks remembered: enough for the late messages of a busy stream, small enough for the kv record. */
const STREAKS_KEPT = 256;

/** The events the goals count. */
export type CountedEvent = UnifiedEventOf<'LIKE' | 'FOLLOW' | 'GIFT'>;

export function emptyProgress(): Progress {
  return { likes: 0, follows: 0, coins: 0, seen: [], announced: {} };
}

/** The tally of a stored (or new) progress. */
export function tallyOf(progress: Progress): Tally {
  const options = { capacity: STREAKS_KEPT };
  return { progress, gifts: progress.giftStreaks ? GiftStreaks.fromJSON(progress.giftStreaks, options) : new GiftStreaks(options) };
}

/** The progress to store, with its streaks. */
export function storedProgress({ progress, gifts }: Tally): Progress {
  return { ...progress, giftStreaks: gifts.toJSON() };
}

/** Counts an event into the tally; false when it changed no total. */
export function countEvent({ progress, gifts }: Tally, event: CountedEvent): boolean {
  const id = event.eventId.slice(0, SEEN_ID_LENGTH);
  if (progress.seen.includes(id)) return false;
  let added: number;
  switch (event.eventType) {
    case 'LIKE':
      added = event.payload.likeCount;
      progress.likes += added;
      break;
    case 'FOLLOW':
      added = 1;
      progress.follows += added;
      break;
    case 'GIFT':
      added = gifts.add(event).coins;
      progress.coins += added;
      break;
  }
  if (added === 0) return false;
  progress.seen.push(id);
  if (progress.seen.length > MAX_SEEN) progress.seen.shift();
  return true;
}
