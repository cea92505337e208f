/**
 * One session's leaderboard: top gifters by coins, top likers by likes. It does not read the
 * clock; the plugin passes the time in and decides when to close streaks whose end never came.
 */
import type { EventUser, UnifiedEventOf } from '@ttlp/sdk';
import { streakKey } from './gifts.ts';

/** A viewer as the overlay shows them. */
export type Viewer = { userId: string; uniqueId: string; displayName: string; avatarUrl: string | null };
export type Gifter = Viewer & { coins: number };
export type Liker = Viewer & { likes: number };
export type BoardState = { gifters: Gifter[]; likers: Liker[] };

/** A viewer's standing; `coins` leaves out their open streaks. */
type Standing = { viewer: Viewer; coins: number; likes: number };
/** A streak whose end has not come yet. */
type OpenStreak = { userId: string; coins: number; deadline: number };

/** Event ids and closed streaks remembered: plenty for re-deliveries and late streak messages. */
const MAX_REMEMBERED = 1000;

export class Leaderboard {
  /** In order of each viewer's first gift or like, which breaks ties. */
  private readonly standings = new Map<string, Standing>();
  private readonly open = new Map<string, OpenStreak>();
  /** Streak key → the coins it was closed with, least recently updated first. */
  private readonly closed = new Map<string, number>();
  /** The bus delivers at least once, so an event can come again. */
  private readonly seen = new Set<string>();

  constructor(private readonly streakTimeoutMs: number) {}

  /** Counts a gift message that arrived at `now` (ms); false when no total changed. */
  addGift(event: UnifiedEventOf<'GIFT'>, now: number): boolean {
    const payload = event.payload;
    if (!payload || !this.firstDelivery(event.eventId)) return false;
    const standing = this.standing(event.user);
    const key = streakKey(event);
    if (key === undefined) {
      // Without a groupId the messages of a streak cannot be matched up: only its last one counts, with the total.
      if (payload.isGiftStreak && !payload.streakEnd) return false;
      standing.coins += payload.coins;
      return payload.coins > 0;
    }
    const closedWith = this.closed.get(key);
    if (closedWith !== undefined) {
      // A message after its streak was closed (late, or after a timeout): only coins beyond the closed total count.
      if (payload.coins <= closedWith) return false;
      standing.coins += payload.coins - closedWith;
      remember(this.closed, key, payload.coins);
      return true;
    }
    const streak = this.open.get(key) ?? { userId: event.user.userId, coins: 0, deadline: 0 };
    // Each message carries the streak's running coins, possibly out of order: the highest one counts.
    const grew = payload.coins > streak.coins;
    streak.coins = Math.max(streak.coins, payload.coins);
    streak.deadline = now + this.streakTimeoutMs;
    this.open.set(key, streak);
    if (payload.streakEnd) this.close(key, streak);
    return grew;
  }

  /** Counts a LIKE message; false when no total changed. */
  addLike(event: UnifiedEventOf<'LIKE'>): boolean {
    const likes = event.payload?.likeCount ?? 0;
    if (!this.firstDelivery(event.eventId)) return false;
    this.standing(event.user).likes += likes;
    return likes > 0;
  }

  /** Closes, with their last coins, the open streaks that had no message for the timeout; how many. */
  closeExpired(now: number): number {
    let closed = 0;
    for (const [key, streak] of this.open) {
      if (streak.deadline > now) continue;
      this.close(key, streak);
      closed += 1;
    }
    return closed;
  }

  /** When the next open streak times out, if one is open. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const streak of this.open.values()) if (next === undefined || streak.deadline < next) next = streak.deadline;
    return next;
  }

  /** The `size` best gifters (open streaks included with their current coins) and likers. */
  top(size: number): BoardState {
    const openCoins = new Map<string, number>();
    for (const streak of this.open.values()) openCoins.set(streak.userId, (openCoins.get(streak.userId) ?? 0) + streak.coins);
    const standings = [...this.standings.values()];
    // Array sort is stable, so equal totals stay in the order the viewers joined the board.
    const gifters = standings
      .map(({ viewer, coins }) => ({ ...viewer, coins: coins + (openCoins.get(viewer.userId) ?? 0) }))
      .filter((gifter) => gifter.coins > 0)
      .sort((a, b) => b.coins - a.coins);
    const likers = standings
      .filter((standing) => standing.likes > 0)
      .sort((a, b) => b.likes - a.likes)
      .map(({ viewer, likes }) => ({ ...viewer, likes }));
    return { gifters: gifters.slice(0, size), likers: likers.slice(0, size) };
  }

  private close(key: string, streak: OpenStreak): void {
    this.open.delete(key);
    const standing = this.standings.get(streak.userId);
    if (standing) standing.coins += streak.coins;
    remember(this.closed, key, streak.coins);
  }

  /** The viewer's standing, with their profile as of their latest message. */
  private standing(user: EventUser): Standing {
    const viewer: Viewer = {
      userId: user.userId,
      uniqueId: user.uniqueId,
      displayName: user.displayName ?? user.uniqueId,
      avatarUrl: user.avatarUrl ?? null,
    };
    const standing = this.standings.get(user.userId);
    if (standing) {
      standing.viewer = viewer;
      return standing;
    }
    const created = { viewer, coins: 0, likes: 0 };
    this.standings.set(user.userId, created);
    return created;
  }

  private firstDelivery(eventId: string): boolean {
    if (this.seen.has(eventId)) return false;
    this.seen.add(eventId);
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.values().next().value!);
    return true;
  }
}

/** Sets `key` as the most recently updated entry, dropping the oldest beyond the limit. */
function remember(map: Map<string, number>, key: string, value: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value!);
}
