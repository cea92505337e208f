/**
 * The host faults a plugin that logs faster than its limit (20 lines a second, bursts of 100) and
 * disables it after a few faults; a log action on a busy event type (LIKE, JOIN) would get there.
 * So the lines the plugin writes per event spend from this smaller budget, and the excess is
 * dropped and counted instead.
 */
export class LogBudget {
  private tokens: number;
  private dropped = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private refilledAt: number,
  ) {
    this.tokens = burst;
  }

  /** Whether a line may be written at `now` (ms); if so, how many were dropped since the last one written. */
  take(now: number): { allowed: false } | { allowed: true; droppedBefore: number } {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) {
      this.dropped += 1;
      return { allowed: false };
    }
    this.tokens -= 1;
    const droppedBefore = this.dropped;
    this.dropped = 0;
    return { allowed: true, droppedBefore };
  }
}
