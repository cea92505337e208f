/**
 * The one rule for counting gift streaks. TikTok repeats a streakable gift's message while the
 * viewer taps, each message carrying the streak's running count and coins, possibly out of order,
 * possibly twice, and sometimes without the end message. Each streak is credited once: a message
 * adds only what its running total has beyond what its streak was already credited.
 */
import type { UnifiedEventOf } from './contract/unified-event.ts';

type GiftEvent = UnifiedEventOf<'GIFT'>;

/** A streak with what it was credited so far. */
export interface GiftStreak {
  /** Sender, groupId and gift: what the messages of one streak share. */
  key: string;
  /** The highest running count among its messages. */
  gifts: number;
  /** The highest running coins among its messages. */
  coins: number;
  /** Event time (ms) of its newest message. */
  lastAt: number;
  /** False once its end message came or it was idle for `idleMs`. */
  open: boolean;
}

/** What one gift message adds to the totals, and what it did to streaks. */
export interface GiftCredit {
  coins: number;
  gifts: number;
  /** The message's streak after the message; undefined for a gift outside a streak that can be followed. */
  streak: GiftStreak | undefined;
  /** The message is the first one seen of its streak. */
  opened: boolean;
  /** The message is its streak's end. */
  closed: boolean;
  /** The message belongs to a streak already closed (it came after the end, or after a timeout). */
  late: boolean;
  /** Other streaks the message's time closed: idle for `idleMs`, or the oldest when too many were open. */
  ended: GiftStreak[];
}

/** Plain JSON, for plugins that keep their counts in kv. */
export type GiftStreaksState = {
  /** The newest event time seen (ms). */
  clock: number;
  /** `[key, gifts, coins, lastAt, open]`, closed streaks then open ones, each least recently updated first. */
  streaks: Array<[string, number, number, number, boolean]>;
};

export interface GiftStreaksOptions {
  /** A streak with no message for this long (event time) is closed, its end or not. Default 10 s. */
  idleMs?: number;
  /** Streaks remembered, open and closed together. Default 1000. */
  capacity?: number;
}

/**
 * TikTok sends a streak's messages a second or two apart and its end a few seconds after the last
 * tap, so ten seconds of silence means the end message was lost.
 */
export const GIFT_STREAK_IDLE_MS = 10_000;
const DEFAULT_CAPACITY = 1000;

/**
 * Credits gift messages, each gift streak once whatever order its messages arrive in. Time is the
 * events' own (`timestamp`, never a clock), so replays count like the live stream did. Memory is
 * bounded: the least recently updated streaks are forgotten first.
 */
export class GiftStreaks {
  /** Both in least-recently-updated order (a Map iterates in insertion order). */
  private readonly open = new Map<string, GiftStreak>();
  private readonly closed = new Map<string, GiftStreak>();
  private latest = 0;
  private readonly idleMs: number;
  private readonly capacity: number;

  constructor(options: GiftStreaksOptions = {}) {
    this.idleMs = options.idleMs ?? GIFT_STREAK_IDLE_MS;
    this.capacity = options.capacity ?? DEFAULT_CAPACITY;
  }

  /** Streaks as `toJSON()` gave them. */
  static fromJSON(state: GiftStreaksState, options: GiftStreaksOptions = {}): GiftStreaks {
    const streaks = new GiftStreaks(options);
    streaks.latest = state.clock;
    for (const [key, gifts, coins, lastAt, open] of state.streaks) (open ? streaks.open : streaks.closed).set(key, { key, gifts, coins, lastAt, open });
    return streaks;
  }

  /** The newest event time seen (ms). */
  get clock(): number {
    return this.latest;
  }

  /** Credits one gift message. A re-delivered event (same eventId) is the caller's to skip, as for any event. */
  add(event: GiftEvent): GiftCredit {
    const gift = event.payload;
    const stamped = Date.parse(event.timestamp);
    const at = Number.isNaN(stamped) ? this.latest : stamped;
    if (at > this.latest) this.latest = at;
    const ended = this.closeIdle(this.latest);
    const none = { coins: 0, gifts: 0, streak: undefined, opened: false, closed: false, late: false, ended };
    if (!gift) return none;
    if (!gift.isGiftStreak) return { ...none, coins: gift.coins, gifts: gift.giftCount };
    // Without a groupId the messages of a streak cannot be matched up: only its end counts, with the whole streak.
    if (gift.groupId === undefined) return gift.streakEnd ? { ...none, coins: gift.coins, gifts: gift.giftCount } : none;

    const key = `${event.user.userId}:${gift.groupId}:${gift.giftId}`;
    const done = this.closed.get(key);
    if (done) {
      const credit = raise(done, gift, at);
      this.touch(this.closed, done);
      return { ...none, ...credit, streak: { ...done }, late: true };
    }
    const running = this.open.get(key);
    const streak = running ?? { key, gifts: 0, coins: 0, lastAt: at, open: true };
    const credit = raise(streak, gift, at);
    if (gift.streakEnd) {
      this.open.delete(key);
      streak.open = false;
      this.touch(this.closed, streak);
    } else {
      this.touch(this.open, streak);
    }
    this.bound(ended);
    return { ...none, ...credit, streak: { ...streak }, opened: running === undefined, closed: gift.streakEnd === true };
  }

  /** Closes the open streaks with no message since `now - idleMs` (event time, ms); answers them. */
  closeIdle(now: number): GiftStreak[] {
    const ended: GiftStreak[] = [];
    for (const streak of this.open.values()) if (streak.lastAt + this.idleMs <= now) ended.push(this.close(streak));
    return ended;
  }

  /** When (event time, ms) the next open streak becomes idle; undefined when none is open. */
  nextIdleAt(): number | undefined {
    let next: number | undefined;
    for (const streak of this.open.values()) next = Math.min(next ?? Infinity, streak.lastAt + this.idleMs);
    return next;
  }

  toJSON(): GiftStreaksState {
    const tuple = (streak: GiftStreak): [string, number, number, number, boolean] => [streak.key, streak.gifts, streak.coins, streak.lastAt, streak.open];
    return { clock: this.latest, streaks: [...this.closed.values(), ...this.open.values()].map(tuple) };
  }

  private close(streak: GiftStreak): GiftStreak {
    this.open.delete(streak.key);
    streak.open = false;
    this.touch(this.closed, streak);
    return { ...streak };
  }

  /** Keeps at most `capacity` streaks: the oldest open ones are closed, then the oldest closed ones forgotten. */
  private bound(ended: GiftStreak[]): void {
    for (const oldest of this.open.values()) {
      if (this.open.size <= this.capacity) break;
      ended.push(this.close(oldest));
    }
    for (const key of this.closed.keys()) {
      if (this.open.size + this.closed.size <= this.capacity) break;
      this.closed.delete(key);
    }
  }

  /** Moves `streak` to the most recently updated end of `streaks`. */
  private touch(streaks: Map<string, GiftStreak>, streak: GiftStreak): void {
    streaks.delete(streak.key);
    streaks.set(streak.key, streak);
  }
}

/** Raises `streak` to the message's running totals; answers what that added. */
function raise(streak: GiftStreak, gift: NonNullable<GiftEvent['payload']>, at: number): { coins: number; gifts: number } {
  const added = { coins: Math.max(0, gift.coins - streak.coins), gifts: Math.max(0, gift.giftCount - streak.gifts) };
  streak.coins += added.coins;
  streak.gifts += added.gifts;
  if (at > streak.lastAt) streak.lastAt = at;
  return added;
}
