import { describe, expect, it } from 'vitest';
import { writePlugin } from '../../test/support/plugin-dir.ts';
import { makeEvent } from './events.ts';
import { createTestHost } from './test-host.ts';

describe('the test host', () => {
  it("waits for the plugin's timers, the timers they start and the async work they leave running", async () => {
    const host = await createTestHost({
      plugin: writePlugin(`
        import { definePlugin } from '@ttlp/sdk';
        export default definePlugin({
          setup(ctx) {
            ctx.on('CHAT', (event) => {
              ctx.setTimeout(() => {
                ctx.setTimeout(async () => {
                  await ctx.kv.set('last', event.payload.message);
                  await ctx.overlay.setState('main', { saved: await ctx.kv.get('last') });
                }, 30);
              }, 30);
            });
          },
        });
      `),
    });
    await host.timersRun();
    await host.send(makeEvent('CHAT', { message: 'hello' }));
    expect(host.state('main')).toBeUndefined();
    await host.timersRun();
    expect(host.kv.get('last')).toBe('hello');
    expect(host.state('main')).toEqual({ saved: 'hello' });
    expect(host.faults).toEqual([]);
    await host.close();
  });
});
