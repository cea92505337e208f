import type { Json, PluginLog } from '@ttlp/sdk';

/**
 * Error lines at most `burst` at once and `perSecond` on average. A receiver that is down turns
 * every event into a failure, and a plugin that logs faster than the sandbox allows faults (and
 * is disabled after a few faults), so the lines beyond are counted instead, and the count is
 * logged as soon as the rate allows a line again.
 */
export class LimitedLog {
  private tokens: number;
  private refilledAt = Date.now();
  private suppressed = 0;
  private reportTimer: number | undefined;

  constructor(
    private readonly log: PluginLog,
    private readonly setTimeout: (callback: () => void, ms: number) => number,
    private readonly perSecond = 1,
    private readonly burst = 10,
  ) {
    this.tokens = burst;
  }

  error(message: string, fields: Record<string, Json>): void {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.log.error(message, fields);
      return;
    }
    this.suppressed += 1;
    this.reportTimer ??= this.setTimeout(() => this.reportSuppressed(), ((1 - this.tokens) * 1000) / this.perSecond);
  }

  private reportSuppressed(): void {
    this.reportTimer = undefined;
    this.refill();
    // The timer was set for when a token is back; a timer that fires a little early still counts as on time.
    this.tokens = Math.max(0, this.tokens - 1);
    this.log.error('similar error lines were left out: the plugin limits its log rate', { suppressed: this.suppressed });
    this.suppressed = 0;
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
  }
}
