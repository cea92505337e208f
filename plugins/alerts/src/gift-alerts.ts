import { RecentKeys, type EventUser, type PayloadOf, type UnifiedEventOf } from '@ttlp/sdk';

type GiftEvent = UnifiedEventOf<'GIFT'>;
type GiftPayload = PayloadOf<'GIFT'>;

/** One message about a gift alert: its start (`update: false`), a higher count, or its end (`final`). */
export interface GiftAlertStep {
  alertId: string;
  update: boolean;
  final: boolean;
  count: number;
  coins: number;
  user: EventUser;
  /** The gift message that last raised the count (name, image). */
  gift: GiftPayload;
}

interface Streak {
  /** Set when the streak reached minCoins and its alert started. */
  alertId: string | undefined;
  count: number;
  coins: number;
  user: EventUser;
  gift: GiftPayload;
  lastSeenAt: number;
}

/** Ended streaks remembered, so a message of one that arrives after its end starts nothing. */
const ENDED_STREAKS_KEPT = 1000;

/**
 * Turns gift events into alert steps. A streak (TikTok repeats the gift message with a running
 * count, grouped by sender and groupId) is one alert: it starts when the streak's coins reach
 * `minCoins`, is updated whenever the count grows, and ends with the streak's end message or after
 * `idleMs` without a message (an end message can be lost with the connection).
 */
export class GiftAlerts {
  private readonly open = new Map<string, Streak>();
  private readonly ended = new RecentKeys(ENDED_STREAKS_KEPT);

  constructor(
    private readonly minCoins: number,
    private readonly idleMs: number,
  ) {}

  /** The step `event` causes, if any; `now` is the current time in ms. */
  receive(event: GiftEvent, now: number): GiftAlertStep | undefined {
    const gift = event.payload;
    if (!gift) return undefined;
    if (!gift.isGiftStreak) {
      if (gift.coins < this.minCoins) return undefined;
      return { alertId: event.eventId, update: false, final: true, count: gift.giftCount, coins: gift.coins, user: event.user, gift };
    }

    const key = `${event.user.userId}:${gift.groupId ?? gift.giftId}`;
    if (this.ended.has(key)) return undefined;
    const streak = this.open.get(key) ?? { alertId: undefined, count: 0, coins: 0, user: event.user, gift, lastSeenAt: now };
    this.open.set(key, streak);
    streak.lastSeenAt = now;
    // The messages of a streak do not always arrive in order: a lower count than seen is stale.
    const grew = gift.giftCount > streak.count;
    if (grew) Object.assign(streak, { count: gift.giftCount, coins: Math.max(streak.coins, gift.coins), user: event.user, gift });

    if (gift.streakEnd) {
      this.end(key);
      if (streak.alertId !== undefined) return stepOf(streak.alertId, streak, true, true);
      return streak.coins >= this.minCoins ? stepOf(event.eventId, streak, false, true) : undefined;
    }
    if (streak.alertId === undefined) {
      if (streak.coins < this.minCoins) return undefined;
      streak.alertId = event.eventId;
      return stepOf(streak.alertId, streak, false, false);
    }
    return grew ? stepOf(streak.alertId, streak, true, false) : undefined;
  }

  /** Ends the streaks silent for `idleMs`; the final steps of those whose alert had started. */
  expire(now: number): GiftAlertStep[] {
    const steps: GiftAlertStep[] = [];
    for (const [key, streak] of this.open) {
      if (now - streak.lastSeenAt < this.idleMs) continue;
      this.end(key);
      if (streak.alertId !== undefined) steps.push(stepOf(streak.alertId, streak, true, true));
    }
    return steps;
  }

  /** When the next open streak becomes idle, in ms; undefined when none is open. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const streak of this.open.values()) next = Math.min(next ?? Infinity, streak.lastSeenAt + this.idleMs);
    return next;
  }

  private end(key: string): void {
    this.open.delete(key);
    this.ended.add(key);
  }
}

function stepOf(alertId: string, streak: Streak, update: boolean, final: boolean): GiftAlertStep {
  return { alertId, update, final, count: streak.count, coins: streak.coins, user: streak.user, gift: streak.gift };
}
