/**
 * The limits a plugin runs within, and how each is measured. Each run has a CPU budget (checked
 * with isolated-vm's timeout and the isolate's CPU clock, and covering the microtasks it
 * triggers); the async part has a wall deadline; the isolate's CPU use per second is capped;
 * overlay messages, log lines and outbound requests are rate limited; kv has a quota of keys and
 * bytes (kept by the kv service, see `kv-quota.ts`).
 */
import type ivm from 'isolated-vm';
import type { PluginQuotas } from '../host-contract/host-api.ts';
import { messageOf, TIMED_OUT } from './boundary.ts';
import type { FaultReport } from './faults.ts';
import { finishRun, type Run, type RunEnd } from './runs.ts';

export interface SandboxLimits {
  /** Heap of the isolate, MB. */
  heapMb: number;
  /** CPU of one entry into the plugin (an event, a timer, setup), ms. */
  cpuMsPerRun: number;
  /** Time for the async work a run started to finish, ms. */
  wallMsPerRun: number;
  /** CPU the isolate may use per second, ms (timers and async work included). */
  cpuMsPerSecond: number;
  overlayMaxBytes: number;
  /** Overlay messages (and states) one run may send: one event, one timer, setup. */
  overlayPerRun: number;
  /** Overlay messages per second on average, with bursts up to `overlayBurst`. */
  overlayPerSecond: number;
  overlayBurst: number;
  kvValueMaxBytes: number;
  /** Keys in the plugin's kv, and the bytes of their values (as PostgreSQL writes the stored JSON). */
  kvKeys: number;
  kvBytes: number;
  /** Log lines per second on average, with bursts up to `logBurst`. */
  logPerSecond: number;
  logBurst: number;
  /** Bytes of log lines (message and fields as JSON) per second on average, with bursts up to `logBytesBurst`. */
  logBytesPerSecond: number;
  logBytesBurst: number;
  /** Outbound http requests in any 60 s, counted when a request is made. */
  httpPerMinute: number;
  /** kv and http requests waiting for their answer at once. */
  requestsWaiting: number;
  /** Characters of one call's arguments as JSON (an overlay message, a kv value, a request with its body). */
  callMaxChars: number;
  /** Timers alive at once, intervals included. */
  maxTimers: number;
  minTimerMs: number;
  /** Faults within `faultWindowMs` that disable the plugin. */
  maxFaults: number;
  faultWindowMs: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  heapMb: 64,
  cpuMsPerRun: 50,
  wallMsPerRun: 10_000,
  cpuMsPerSecond: 500,
  overlayMaxBytes: 64 * 1024,
  overlayPerRun: 50,
  overlayPerSecond: 50,
  overlayBurst: 200,
  kvValueMaxBytes: 64 * 1024,
  kvKeys: 5_000,
  kvBytes: 8 * 1024 * 1024,
  logPerSecond: 20,
  logBurst: 100,
  logBytesPerSecond: 32 * 1024,
  logBytesBurst: 160 * 1024,
  httpPerMinute: 1_200,
  requestsWaiting: 100,
  callMaxChars: 256 * 1024,
  maxTimers: 64,
  minTimerMs: 10,
  maxFaults: 5,
  faultWindowMs: 60_000,
};

/** Wall-clock allowance of one entry into the isolate, as a multiple of its CPU budget. */
const WALL_PER_CPU = 4;
const CPU_SHARE_CHECK_MS = 50;

/**
 * isolated-vm's timeout counts wall-clock time, which a busy machine stretches; it is set a few
 * times above the CPU budget to stop runaway code, and the CPU the entry really used is checked
 * against the budget afterwards.
 */
export function entryTimeoutMs(limits: SandboxLimits): number {
  return limits.cpuMsPerRun * WALL_PER_CPU;
}

/**
 * Calls into the isolate and checks the CPU the entry used against the budget of one run; turns
 * what went wrong into a fault. `othersMs` is how much of the entry's CPU, at most, went to runs
 * before the last one.
 */
export function enterWithinBudget(
  isolate: ivm.Isolate,
  limits: SandboxLimits,
  call: () => unknown,
  othersMs: () => number = () => 0,
): { value: unknown } | { fault: FaultReport } {
  const overBudget = () => ({ kind: 'timeout' as const, message: `used more than ${limits.cpuMsPerRun} ms of CPU` });
  const cpuBefore = isolate.cpuTime;
  try {
    const value = call();
    const used = Number(isolate.cpuTime - cpuBefore) / 1e6;
    return used > limits.cpuMsPerRun && used - othersMs() > limits.cpuMsPerRun ? { fault: overBudget() } : { value };
  } catch (error) {
    if (isolate.isDisposed) return { fault: { kind: 'memory', message: `the isolate ran out of memory (${limits.heapMb} MB)` } };
    const message = messageOf(error);
    if (message === TIMED_OUT) return { fault: overBudget() };
    return { fault: { kind: 'crash', message } };
  }
}

/** How `run` ends: as it reported, or with a deadline fault when its async work outlasts `wallMsPerRun`. */
export async function endWithinDeadline(run: Run, limits: SandboxLimits): Promise<RunEnd> {
  if (run.ended) return run.ended;
  let deadline: NodeJS.Timeout | undefined;
  try {
    return await new Promise<RunEnd>((resolve) => {
      run.waiter = resolve;
      deadline = setTimeout(
        () => finishRun(run, { fault: { kind: 'deadline', message: `async work did not finish within ${limits.wallMsPerRun} ms` } }),
        limits.wallMsPerRun,
      );
    });
  } finally {
    clearTimeout(deadline);
  }
}

/** The isolate's CPU use per second, measured over windows of about a second. */
export class CpuShare {
  private window = { start: 0, cpuAtStart: 0n };
  private checkedAt = 0;

  constructor(private readonly limits: SandboxLimits) {}

  /** Starts measuring a new isolate. */
  restart(isolate: ivm.Isolate): void {
    this.window = { start: Date.now(), cpuAtStart: isolate.cpuTime };
  }

  /** A `cpu` fault when the isolate used more than its share since the window started. */
  fault(isolate: ivm.Isolate): FaultReport | undefined {
    if (isolate.isDisposed) return undefined;
    const now = Date.now();
    // Checked at most every CPU_SHARE_CHECK_MS: runs come by the thousand per second.
    if (now - this.checkedAt < CPU_SHARE_CHECK_MS) return undefined;
    this.checkedAt = now;
    const used = Number(isolate.cpuTime - this.window.cpuAtStart) / 1e6;
    const elapsed = now - this.window.start;
    if (elapsed >= 1000) this.window = { start: now, cpuAtStart: isolate.cpuTime };
    if (used > this.limits.cpuMsPerSecond * Math.max(1, elapsed / 1000))
      return { kind: 'cpu', message: `used ${Math.round(used)} ms of CPU in ${elapsed} ms (limit ${this.limits.cpuMsPerSecond} ms per second)` };
    return undefined;
  }
}

/** The quotas a plugin runs with (`configured` over the defaults), as the settings page and `ttlp plugin list` show them. */
export function pluginQuotas(configured: Partial<SandboxLimits> = {}): PluginQuotas {
  const limits = { ...DEFAULT_LIMITS, ...configured };
  return {
    memoryMb: limits.heapMb,
    cpuMsPerSecond: limits.cpuMsPerSecond,
    overlayPerRun: limits.overlayPerRun,
    overlayPerSecond: limits.overlayPerSecond,
    kvKeys: limits.kvKeys,
    kvBytes: limits.kvBytes,
    logLinesPerSecond: limits.logPerSecond,
    logBytesPerSecond: limits.logBytesPerSecond,
    httpPerMinute: limits.httpPerMinute,
    timers: limits.maxTimers,
  };
}

/** `perSecond` on average, in bursts of up to `burst`. */
class TokenBucket {
  private tokens: number;
  private refilledAt = Date.now();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** True when `amount` tokens are there, which it then takes. */
  take(amount = 1): boolean {
    this.refill();
    if (this.tokens < amount) return false;
    this.tokens -= amount;
    return true;
  }

  /** True when `amount` tokens are there, without taking them. */
  has(amount: number): boolean {
    this.refill();
    return this.tokens >= amount;
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
  }
}

/**
 * Log lines: `logPerSecond` lines and `logBytesPerSecond` bytes on average, in bursts of up to
 * `logBurst` lines and `logBytesBurst` bytes.
 */
export class LogBucket {
  private readonly lines: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(private readonly limits: SandboxLimits) {
    this.lines = new TokenBucket(limits.logPerSecond, limits.logBurst);
    this.bytes = new TokenBucket(limits.logBytesPerSecond, limits.logBytesBurst);
  }

  /** Takes one line of `bytes`; answers why not when either rate is spent (then nothing is taken). */
  take(bytes: number): string | undefined {
    if (!this.bytes.has(bytes)) return `more than ${this.limits.logBytesPerSecond} bytes of log lines per second`;
    if (!this.lines.take()) return `more than ${this.limits.logPerSecond} log lines per second`;
    this.bytes.take(bytes);
    return undefined;
  }
}

/**
 * What a plugin sends out, against its rates: overlay messages per second, http requests per
 * minute, kv and http requests waiting at once.
 */
export class OutputRates {
  private readonly overlay: TokenBucket;
  /** When the requests of the last 60 s were made, oldest first. */
  private readonly requests: number[] = [];
  private waiting = 0;

  constructor(private readonly limits: SandboxLimits) {
    this.overlay = new TokenBucket(limits.overlayPerSecond, limits.overlayBurst);
  }

  /** Counts one overlay message; answers why not when the rate is spent. */
  overlayMessage(): string | undefined {
    return this.overlay.take() ? undefined : `more than ${this.limits.overlayPerSecond} overlay messages per second`;
  }

  /** Counts one request being made; answers why not when `httpPerMinute` were made in the last 60 s. */
  httpRequest(): string | undefined {
    const now = Date.now();
    while (this.requests.length > 0 && now - this.requests[0]! >= 60_000) this.requests.shift();
    if (this.requests.length >= this.limits.httpPerMinute) return `more than ${this.limits.httpPerMinute} http requests per minute`;
    this.requests.push(now);
    return undefined;
  }

  /** Counts one kv or http request as waiting until `requestAnswered`; answers why not when `requestsWaiting` are already. */
  requestMade(): string | undefined {
    if (this.waiting >= this.limits.requestsWaiting) return `more than ${this.limits.requestsWaiting} kv and http requests waiting for their answer at once`;
    this.waiting += 1;
    return undefined;
  }

  requestAnswered(): void {
    this.waiting -= 1;
  }
}
