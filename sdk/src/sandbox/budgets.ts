/**
 * The limits a plugin runs within, and how each is measured. Each run has a CPU budget (checked
 * with isolated-vm's timeout and the isolate's CPU clock, and covering the microtasks it
 * triggers); the async part has a wall deadline; the isolate's CPU use per second is capped; log
 * lines are rate limited.
 */
import type ivm from 'isolated-vm';
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
  kvValueMaxBytes: number;
  /** Log lines per second on average, with bursts up to `logBurst`. */
  logPerSecond: number;
  logBurst: number;
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
  kvValueMaxBytes: 64 * 1024,
  logPerSecond: 20,
  logBurst: 100,
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

/** Log lines: `logPerSecond` on average, in bursts of up to `logBurst` (a token bucket). */
export class LogBucket {
  private tokens: number;
  private refilledAt = Date.now();

  constructor(private readonly limits: SandboxLimits) {
    this.tokens = limits.logBurst;
  }

  /** Takes one line's token; false when there is none left. */
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.limits.logBurst, this.tokens + ((now - this.refilledAt) / 1000) * this.limits.logPerSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
