/**
 * Run accounting. A run is one call of the plugin — its setup, one event, one timer — plus the
 * async work it started; the host knows which run is calling it because the isolate is only ever
 * entered from this thread (applySync).
 */
import { eventInProgress } from './batch.ts';
import type { FaultReport } from './faults.ts';
import type { RunInfo } from './services.ts';

export interface Run {
  id: number;
  info: RunInfo;
  violation?: string;
  /** Overlay messages (and states) the run has sent, against `overlayPerRun`. */
  overlayMessages: number;
  /** How the run ended, once it did (possibly before anyone waits for it). */
  ended?: RunEnd;
  /** Set while the host waits for the run's async work. */
  waiter?: (outcome: RunEnd) => void;
}

/** How a run ended: its handlers' first error, a fault, or cut short by a restart of the isolate. */
export type RunEnd = { error?: string; fault?: FaultReport; aborted?: boolean };

export function finishRun(run: Run, outcome: RunEnd): void {
  if (run.ended) return;
  run.ended = outcome;
  run.waiter?.(outcome);
}

/** The runs not ended yet, and which of them is calling the host. */
export class Runs {
  private last = 0;
  private readonly open = new Map<number, Run>();
  private active: Run | undefined;
  /** The runs of the batch being handled: which is current is in the generation's `progress`. */
  private batch: Run[] | undefined;

  start(info: RunInfo): Run {
    const run: Run = { id: ++this.last, info, overlayMessages: 0 };
    this.open.set(run.id, run);
    return run;
  }

  get(id: number): Run | undefined {
    return this.open.get(id);
  }

  has(run: Run): boolean {
    return this.open.has(run.id);
  }

  /** How many runs have not ended yet. */
  get size(): number {
    return this.open.size;
  }

  forget(run: Run): void {
    this.open.delete(run.id);
  }

  /** Ends every open run as cut short: the isolate they ran in is gone. */
  abortAll(): void {
    for (const run of this.open.values()) finishRun(run, { aborted: true });
  }

  /** Calls `enter` with `run` as the run calling the host. */
  within<T>(run: Run, enter: () => T): T {
    const previous = this.active;
    this.active = run;
    try {
      return enter();
    } finally {
      this.active = previous;
    }
  }

  /** Calls `enter` with `batch` as the runs calling the host, the current one read from `progress`. */
  withinBatch<T>(batch: Run[], enter: () => T): T {
    this.batch = batch;
    try {
      return enter();
    } finally {
      this.batch = undefined;
    }
  }

  /** The run calling the host now, if the host is inside the isolate for one. */
  current(progress: Int32Array): Run | undefined {
    const batch = this.batch;
    return batch ? batch[eventInProgress(progress, batch.length)] : this.active;
  }
}
