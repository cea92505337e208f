import { GiftStreaks, type EventUser, type GiftStreak, type PayloadOf, type UnifiedEventOf } from '@ttlp/sdk';

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

/** The alert of a streak that reached minCoins: who and what it shows. */
interface StreakAlert {
  alertId: string;
  user: EventUser;
  gift: GiftPayload;
}

/**
 * Turns gift events into alert steps. A streak, as `GiftStreaks` follows it, is one alert: it
 * starts when the streak's coins reach `minCoins`, is updated whenever the count grows, and ends
 * with the streak's end message or after `idleMs` without a message (an end message can be lost
 * with the connection). Streak time is the events' time; between events it runs on with `now`.
 */
export class GiftAlerts {
  private readonly streaks: GiftStreaks;
  /** The started alerts of open streaks, by streak key. */
  private readonly alerts = new Map<string, StreakAlert>();
  /** When (ms, `now`) the latest gift message came. */
  private receivedAt = 0;

  constructor(
    private readonly minCoins: number,
    idleMs: number,
  ) {
    this.streaks = new GiftStreaks({ idleMs });
  }

  /** The steps `event` causes; `now` is the current time in ms. */
  receive(event: GiftEvent, now: number): GiftAlertStep[] {
    const gift = event.payload;
    if (!gift) return [];
    this.receivedAt = now;
    const credit = this.streaks.add(event);
    const steps = credit.ended.flatMap((ended) => this.finish(ended));
    const streak = credit.streak;
    if (!streak) {
      // A gift outside any streak that can be followed is complete in its one message.
      if (credit.gifts > 0 && credit.coins >= this.minCoins)
        steps.push({ alertId: event.eventId, update: false, final: true, count: credit.gifts, coins: credit.coins, user: event.user, gift });
      return steps;
    }
    // A message of a streak that already ended starts nothing.
    if (credit.late) return steps;
    let alert = this.alerts.get(streak.key);
    if (alert && credit.gifts > 0) Object.assign(alert, { user: event.user, gift });
    if (credit.closed) {
      this.alerts.delete(streak.key);
      if (alert) steps.push(stepOf(alert, streak, true, true));
      else if (streak.coins >= this.minCoins) steps.push(stepOf({ alertId: event.eventId, user: event.user, gift }, streak, false, true));
      return steps;
    }
    if (!alert) {
      if (streak.coins < this.minCoins) return steps;
      alert = { alertId: event.eventId, user: event.user, gift };
      this.alerts.set(streak.key, alert);
      steps.push(stepOf(alert, streak, false, false));
      return steps;
    }
    if (credit.gifts > 0) steps.push(stepOf(alert, streak, true, false));
    return steps;
  }

  /** Ends the streaks silent for `idleMs`; the final steps of those whose alert had started. */
  expire(now: number): GiftAlertStep[] {
    return this.streaks.closeIdle(this.streakTime(now)).flatMap((ended) => this.finish(ended));
  }

  /** When the next open streak becomes idle, in ms (`now`); undefined when none is open. */
  nextExpiry(): number | undefined {
    const idleAt = this.streaks.nextIdleAt();
    return idleAt === undefined ? undefined : idleAt - this.streaks.clock + this.receivedAt;
  }

  /** Streak time at `now`: the newest event's time plus what passed since the latest gift came. */
  private streakTime(now: number): number {
    return this.streaks.clock + (now - this.receivedAt);
  }

  private finish(streak: GiftStreak): GiftAlertStep[] {
    const alert = this.alerts.get(streak.key);
    if (!alert) return [];
    this.alerts.delete(streak.key);
    return [stepOf(alert, streak, true, true)];
  }
}

function stepOf(alert: StreakAlert, streak: GiftStreak, update: boolean, final: boolean): GiftAlertStep {
  return { alertId: alert.alertId, update, final, count: streak.gifts, coins: streak.coins, user: alert.user, gift: alert.gift };
}
