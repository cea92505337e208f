/**
 * What a matched rule still has to pass before it acts, and which needs memory: how often it fires
 * for a gift combo (once per combo, or at every message that adds gifts) and its cooldowns, for
 * everyone and per viewer. Time is the events' own, so a replay fires as the live stream did.
 * Memory is bounded: combos and viewers are forgotten oldest first.
 */
import { RecentKeys, type GiftCredit, type UnifiedEvent } from '@ttlp/sdk';
import type { Rule } from './rule.ts';

/** Combos and viewers remembered per rule. */
const REMEMBERED = 5000;

/** Event time (ms) of an event, the clock when it has none. */
export const eventTime = (event: UnifiedEvent, now = Date.now()): number => {
  const at = Date.parse(event.timestamp);
  return Number.isNaN(at) ? now : at;
};

export class RuleGates {
  /** Per rule: the combos it fired for. */
  private readonly combos = new Map<string, RecentKeys>();
  /** Per rule: when it last fired. */
  private readonly lastFired = new Map<string, number>();
  /** Per rule: when it last fired for each viewer, oldest first. */
  private readonly viewers = new Map<string, Map<string, number>>();

  /** Why the rule may not act on this event now; undefined when it may. `credit` is the event's, for a gift. */
  refusal(rule: Rule, event: UnifiedEvent, credit: GiftCredit | undefined, at: number): string | undefined {
    if (rule.trigger === 'gift' && credit) {
      if ((rule.combo ?? 'once') === 'each') {
        if (credit.gifts === 0) return 'the message adds no gift to its combo (a repeat, or one out of order)';
      } else if (credit.streak && this.combos.get(rule.id)?.has(credit.streak.key)) return 'the rule fired for this combo already';
      else if (!credit.streak && credit.gifts === 0) return 'the combo is counted when it ends';
    }
    const last = this.lastFired.get(rule.id);
    if (rule.cooldownMs && last !== undefined && at - last < rule.cooldownMs) return `the rule rests for ${rule.cooldownMs - (at - last)} ms more`;
    const viewer = this.viewers.get(rule.id)?.get(event.user.userId);
    if (rule.viewerCooldownMs && viewer !== undefined && at - viewer < rule.viewerCooldownMs)
      return `the rule rests for @${event.user.uniqueId} for ${rule.viewerCooldownMs - (at - viewer)} ms more`;
    return undefined;
  }

  /** The rule acted on this event. */
  fired(rule: Rule, event: UnifiedEvent, credit: GiftCredit | undefined, at: number): void {
    if (rule.trigger === 'gift' && credit?.streak) {
      let combos = this.combos.get(rule.id);
      if (!combos) this.combos.set(rule.id, (combos = new RecentKeys(REMEMBERED)));
      combos.add(credit.streak.key);
    }
    if (rule.cooldownMs) this.lastFired.set(rule.id, at);
    if (rule.viewerCooldownMs) {
      let viewers = this.viewers.get(rule.id);
      if (!viewers) this.viewers.set(rule.id, (viewers = new Map()));
      viewers.delete(event.user.userId);
      viewers.set(event.user.userId, at);
      if (viewers.size > REMEMBERED) viewers.delete(viewers.keys().next().value!);
    }
  }
}
