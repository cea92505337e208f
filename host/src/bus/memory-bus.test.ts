import { describe, expect, it } from 'vitest';
import { MemoryBus } from './memory-bus.ts';
import { numbered } from '../../test/support/bus-entries.ts';

describe('MemoryBus', () => {
  it('lets timers run while a consumer works through a backlog', async () => {
    const bus = new MemoryBus();
    const total = 20_000;
    await bus.publishMany('raw', numbered('raw', 0, total));
    let handled = 0;
    let handledWhenTimerFired: number | undefined;
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        handledWhenTimerFired = handled;
        resolve();
      }, 0),
    );
    const consumer = bus.consume({
      stream: 'raw',
      group: 'g',
      consumer: 'c',
      stage: 'test',
      batchSize: 100,
      handler: async (entries) => {
        handled += entries.length;
      },
    });
    await timer;
    expect(handledWhenTimerFired).toBeLessThan(total);
    await consumer.stop();
    await bus.close();
  });
});
