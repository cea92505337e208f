import type ivm from 'isolated-vm';
import { describe, expect, it } from 'vitest';
import { TIMED_OUT } from './boundary.ts';
import { DEFAULT_LIMITS, enterWithinBudget } from './budgets.ts';

const limits = { ...DEFAULT_LIMITS, cpuMsPerRun: 50 };

/** An isolate whose CPU clock moves only when the test says: an entry "uses" what it adds. */
function clockedIsolate() {
  const clock = { cpuTime: 0n, isDisposed: false };
  return { isolate: clock as unknown as ivm.Isolate, use: (ms: number) => (clock.cpuTime += BigInt(ms * 1e6)) };
}

describe('the CPU budget of an entry', () => {
  it('is a fault when the entry used more CPU than one run may, though it finished', () => {
    const { isolate, use } = clockedIsolate();
    expect(enterWithinBudget(isolate, limits, () => (use(50), 'answer'))).toEqual({ value: 'answer' });
    expect(enterWithinBudget(isolate, limits, () => use(51))).toEqual({ fault: { kind: 'timeout', message: 'used more than 50 ms of CPU' } });
  });

  it('charges a batch entry to its last event only beyond what the events before it used', () => {
    const { isolate, use } = clockedIsolate();
    expect(enterWithinBudget(isolate, limits, () => (use(90), 'batch'), () => 40)).toEqual({ value: 'batch' });
    expect(enterWithinBudget(isolate, limits, () => use(90), () => 39)).toMatchObject({ fault: { kind: 'timeout' } });
  });

  it("is a fault when isolated-vm's timeout stopped the entry", () => {
    const { isolate } = clockedIsolate();
    const stopped = () => {
      throw new Error(TIMED_OUT);
    };
    expect(enterWithinBudget(isolate, limits, stopped)).toEqual({ fault: { kind: 'timeout', message: 'used more than 50 ms of CPU' } });
  });
});
