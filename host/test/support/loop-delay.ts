/**
 * The event-loop delay of this process over a window of a test. A host started in-process
 * (`createHost`) runs on the test's own loop, so this is the host's loop: the one that serves the
 * API, the overlay hub and the pipeline.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * How often the loop is sampled. Each sample is the time between two turns of a timer due every
 * this many ms, so an idle loop reads about this much, and a loop stalled for S ms reads S + this.
 */
export const LOOP_SAMPLE_MS = 10;

export interface LoopDelayFigures {
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  samples: number;
}

export class LoopDelay {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });

  constructor() {
    this.histogram.enable();
  }

  /** Starts a new window: what was measured before is forgotten. */
  reset(): void {
    this.histogram.reset();
  }

  /** The window so far. */
  read(): LoopDelayFigures {
    const h = this.histogram;
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    return h.count === 0
      ? { p99Ms: 0, maxMs: 0, meanMs: 0, samples: 0 }
      : { p99Ms: ms(h.percentile(99)), maxMs: ms(h.max), meanMs: ms(h.mean), samples: h.count };
  }

  stop(): void {
    this.histogram.disable();
  }
}
