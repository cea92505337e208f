/**
 * One session's leaderboard: top gifters by coins (each gift streak credited once, as it runs, by
 * `GiftStreaks`), top likers by likes.
 */
import { GiftStreaks, RecentKeys, type EventUser, type UnifiedEventOf } from '@ttlp/sdk';

/** A viewer as the overlay shows them. */
export type Viewer = { userId: string; uniqueId: string; displayName: string; avatarUrl: string | null };
export type Gifter = Viewer & { coins: number };
export type Liker = Viewer & { likes: number };
export type BoardState = { gifters: Gifter[]; likers: Liker[] };

type Standing = { viewer: Viewer; coins: number; likes: number };

/** Event ids remembered: plenty for re-deliveries. */
const SEEN_EVENTS_KEPT = 1000;

export class Leaderboard {
  /** In order of each viewer's first gift or like, which breaks ties. */
  private readonly standings = new Map<string, Standing>();
  private readonly streaks: GiftStreaks;
  /** The bus delivers at least once, so an event can come again. */
  private readonly seen = new RecentKeys(SEEN_EVENTS_KEPT);

  constructor(streakIdleMs: number) {
    this.streaks = new GiftStreaks({ idleMs: streakIdleMs });
  }

  /** Counts a gift message; false when no total changed. */
  addGift(event: UnifiedEventOf<'GIFT'>): boolean {
    if (!this.seen.add(event.eventId)) return false;
    const { coins } = this.streaks.add(event);
    this.standing(event.user).coins += coins;
    return coins > 0;
  }

  /** Counts a LIKE message; false when no total changed. */
  addLike(event: UnifiedEventOf<'LIKE'>): boolean {
    const likes = event.payload.likeCount;
    if (!this.seen.add(event.eventId)) return false;
    this.standing(event.user).likes += likes;
    return likes > 0;
  }

  /** The `size` best gifters and likers. */
  top(size: number): BoardState {
    const standings = [...this.standings.values()];
    // Array sort is stable, so equal totals stay in the order the viewers joined the board.
    const gifters = standings
      .filter((standing) => standing.coins > 0)
      .sort((a, b) => b.coins - a.coins)
      .map(({ viewer, coins }) => ({ ...viewer, coins }));
    const likers = standings
      .filter((standing) => standing.likes > 0)
      .sort((a, b) => b.likes - a.likes)
      .map(({ viewer, likes }) => ({ ...viewer, likes }));
    return { gifters: gifters.slice(0, size), likers: likers.slice(0, size) };
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
}
