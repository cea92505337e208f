/** What counts as a plugin's fault, which faults recreate its isolate, and when faults disable it. */
import type { SandboxLimits } from './budgets.ts';
import type { RunInfo } from './services.ts';

export type FaultKind = 'error' | 'timeout' | 'memory' | 'deadline' | 'cpu' | 'limit' | 'crash';

export interface Fault {
  kind: FaultKind;
  message: string;
  run: RunInfo;
  at: Date;
}

/** A fault as the sandbox finds it, before it is recorded against a run. */
export type FaultReport = Omit<Fault, 'run' | 'at'>;

/** Faults that leave the isolate unusable or busy: it is recreated (setup runs again, kv is kept). */
const RECREATING: ReadonlySet<FaultKind> = new Set(['memory', 'deadline', 'cpu', 'crash']);

export function recreatesIsolate(kind: FaultKind): boolean {
  return RECREATING.has(kind);
}

/** The plugin's recent faults: `maxFaults` of them within `faultWindowMs` disable it. */
export class FaultWindow {
  private times: number[] = [];

  constructor(private readonly limits: Pick<SandboxLimits, 'maxFaults' | 'faultWindowMs'>) {}

  /** Counts a fault that happened now; answers why the plugin is disabled when it was one too many. */
  add(message: string): string | undefined {
    const now = Date.now();
    this.times = [...this.times.filter((time) => now - time < this.limits.faultWindowMs), now];
    if (this.times.length < this.limits.maxFaults) return undefined;
    return `${this.times.length} faults within ${this.limits.faultWindowMs / 1000} s; the last: ${message}`;
  }

  /** Past faults no longer count (the plugin was reloaded). */
  forgive(): void {
    this.times = [];
  }
}

/**
 * A service's refusal of a call that would take the plugin over a quota (kv keys or bytes, say).
 * The operation that called the service makes it a `limit` fault of the run, and the plugin's
 * call rejects with the same message. Told apart by its name alone, which crosses a worker
 * thread's message channel where the class does not.
 */
export class QuotaExceeded extends Error {
  override readonly name = 'QuotaExceeded';
}

/** True for a `QuotaExceeded`, also one rebuilt on the other side of a message channel. */
export function isQuotaExceeded(error: unknown): error is Error {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'QuotaExceeded' && typeof (error as { message?: unknown }).message === 'string';
}
