/** Reconnect delays: exponential, capped, with jitter so many hosts do not retry in step. */

export interface BackoffOptions {
  /** First delay, ms. Default 1 000. */
  initialMs?: number;
  /** Longest delay, ms. Default 60 000. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Relative jitter: each delay is the nominal one ± this share. Default 0.2. */
  jitter?: number;
  /** Random numbers in [0, 1). Default Math.random. */
  random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1_000;
    this.maxMs = options.maxMs ?? 60_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.2;
    this.random = options.random ?? Math.random;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs)) throw new RangeError('back-off needs 0 < initialMs ≤ maxMs');
    if (!(this.factor >= 1)) throw new RangeError('back-off factor must be at least 1');
    if (!(this.jitter >= 0 && this.jitter < 1)) throw new RangeError('back-off jitter must be in [0, 1)');
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const nominal = Math.min(this.maxMs, this.initialMs * this.factor ** this.failures);
    this.failures += 1;
    const spread = nominal * this.jitter * (this.random() * 2 - 1);
    return Math.round(Math.max(0, nominal + spread));
  }

  /** A connection held: the next failure starts from the first delay again. */
  reset(): void {
    this.failures = 0;
  }
}
