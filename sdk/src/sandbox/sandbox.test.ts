import { describe, expect, it } from 'vitest';
import { createTestHost, makeEvent } from '../testing/index.ts';
import { writePlugin } from '../../test/support/plugin-dir.ts';
import { bundlePlugin, PluginBuildError } from './bundle.ts';

const chat = (message: string, userId = '6800000000000000001') => makeEvent('CHAT', { message }, { user: { userId } });
const gift = (coins: number) => makeEvent('GIFT', { giftId: 5655, giftName: 'Rose', giftCount: coins, coins });

describe('a plugin in its isolate', () => {
  it('receives the events it subscribed to, narrowed by type, and uses overlay, kv, log and timers', async () => {
    const dir = writePlugin(`
      import { definePlugin } from '@ttlp/sdk';
      export default definePlugin<{ prefix: string }>({
        setup(ctx) {
          ctx.log.info('ready', { prefix: ctx.config.prefix });
          ctx.on('CHAT', async (event) => {
            const seen = ((await ctx.kv.get<number>('seen')) ?? 0) + 1;
            await ctx.kv.set('seen', seen);
            await ctx.overlay.send('main', { text: ctx.config.prefix + event.payload.message, seen });
          });
          ctx.on('GIFT', (event) => {
            ctx.setTimeout(() => ctx.overlay.setState('main', { coins: event.payload.coins }), 10);
          });
        },
      });
    `, { config: { type: 'object', properties: { prefix: { type: 'string', default: '> ' } } } });
    const host = await createTestHost({ plugin: dir });
    await host.send(chat('hi'), chat('there'), makeEvent('LIKE', { likeCount: 1, totalLikeCount: 1 }), gift(5));
    await host.timersRun();
    expect(host.messages('main')).toEqual([
      { text: '> hi', seen: 1 },
      { text: '> there', seen: 2 },
    ]);
    expect(host.state('main')).toEqual({ coins: 5 });
    expect(host.kv.get('seen')).toBe(2);
    expect(host.logs).toEqual([{ level: 'info', message: 'ready', fields: { prefix: '> ' } }]);
    expect(host.faults).toEqual([]);
    await host.close();
  });

  it('answers http.fetch from fixtures and only for granted URLs', async () => {
    const dir = writePlugin(`
      import { definePlugin } from '@ttlp/sdk';
      export default definePlugin({
        setup(ctx) {
          ctx.on('CHAT', async () => {
            const ok = await ctx.http.fetch('https://api.example.com/v1/items', { method: 'POST', body: '{}' });
            ctx.log.info('status', { status: ok.status, value: ok.json<{ value: number }>().value });
            try {
              await ctx.http.fetch('https://evil.example.net/');
            } catch (error) {
              ctx.log.warn((error as Error).message);
            }
          });
        },
      });
    `, { permissions: { events: ['CHAT'], http: ['https://api.example.com/v1/**'] } });
    const host = await createTestHost({
      plugin: dir,
      http: { 'POST https://api.example.com/v1/items': { status: 201, body: '{"value":7}' } },
    });
    await host.send(chat('go'));
    expect(host.logs).toEqual([
      { level: 'info', message: 'status', fields: { status: 201, value: 7 } },
      { level: 'warn', message: 'not allowed to fetch https://evil.example.net/ (no granted URL pattern matches)' },
    ]);
    expect(host.httpCalls).toEqual([{ url: 'https://api.example.com/v1/items', method: 'POST', headers: {}, body: '{}' }]);
    await host.close();
  });

  it('refuses what was not granted: events, overlay channels, kv', async () => {
    const dir = writePlugin(`
      import { definePlugin } from '@ttlp/sdk';
      export default definePlugin({
        setup(ctx) {
          try { ctx.on('GIFT', () => {}); } catch (error) { ctx.log.warn((error as Error).message); }
          ctx.on('CHAT', async () => {
            await ctx.overlay.send('other', {}).catch((error: Error) => ctx.log.warn(error.message));
            await ctx.kv.get('x').catch((error: Error) => ctx.log.warn(error.message));
          });
        },
      });
    `, { permissions: { events: ['CHAT'] } });
    const host = await createTestHost({ plugin: dir });
    await host.send(gift(1), chat('x'));
    expect(host.logs.map((entry) => entry.message)).toEqual([
      'not allowed to receive GIFT events (grant "events:GIFT" is missing)',
      'not allowed to write to overlay channel "other"',
      'not allowed to use kv (grant "kv" is missing)',
    ]);
    await host.close();
  });

  it('records a throwing handler as a fault and keeps running', async () => {
    const dir = writePlugin(`
      import { definePlugin } from '@ttlp/sdk';
      export default definePlugin({
        setup(ctx) {
          ctx.on('CHAT', (event) => {
            if (event.payload.message === 'boom') throw new Error('kaboom');
            return ctx.overlay.send('main', event.payload.message);
          });
        },
      });
    `);
    const host = await createTestHost({ plugin: dir });
    await host.send(chat('a'), chat('boom'), chat('b'));
    expect(host.messages('main')).toEqual(['a', 'b']);
    expect(host.faults).toHaveLength(1);
    expect(host.faults[0]).toMatchObject({ kind: 'error', run: { kind: 'event' } });
    expect(host.faults[0]!.message).toContain('kaboom');
    await host.close();
  });
});

describe('events delivered in batches', () => {
  const busyPlugin = writePlugin(`
    import { definePlugin } from '@ttlp/sdk';
    export default definePlugin({
      setup(ctx) {
        ctx.on('CHAT', (event) => {
          const busyMs = Number(event.payload.message);
          const until = Date.now() + busyMs;
          while (Date.now() < until) {}
          ctx.overlay.send('main', busyMs);
        });
      },
    });
  `);

  it('attribute what each handler does to its own event, in order', async () => {
    // One overlay message per event, all 300 within a moment: more than the rate's burst.
    const host = await createTestHost({ plugin: busyPlugin, limits: { overlayBurst: 300 } });
    const events = Array.from({ length: 300 }, () => chat('0'));
    await host.send(...events);
    expect(host.overlay.map((entry) => entry.eventId)).toEqual(events.map((event) => event.eventId));
    expect(host.faults).toEqual([]);
    await host.close();
  });

  it('pin a CPU overrun on the event that caused it, and handle the rest', async () => {
    const host = await createTestHost({ plugin: busyPlugin, limits: { cpuMsPerRun: 50 } });
    const events = ['0', '0', '0', 'Infinity', '0', '0'].map((busy) => chat(busy));
    await host.send(...events);
    expect(host.faults.map((fault) => [fault.kind, fault.run.eventId])).toEqual([['timeout', events[3]!.eventId]]);
    expect(host.messages('main')).toEqual([0, 0, 0, 0, 0]);
    await host.close();
  });

  it('never add up the CPU of events that each stay within the budget', async () => {
    // Ten times 20 ms is twice the budget; one event's 20 ms stays far below it, also on a loaded machine.
    const host = await createTestHost({ plugin: busyPlugin, limits: { cpuMsPerRun: 100 } });
    await host.send(...Array.from({ length: 10 }, () => chat('20')));
    expect(host.faults).toEqual([]);
    expect(host.messages('main')).toHaveLength(10);
    await host.close();
  });

  it('wait for the async work of one event before the next event is handled', async () => {
    const dir = writePlugin(`
      import { definePlugin } from '@ttlp/sdk';
      export default definePlugin({
        setup(ctx) {
          ctx.on('CHAT', async (event) => {
            if (event.payload.message === 'slow') await ctx.kv.get('anything');
            ctx.log.info(event.payload.message);
          });
        },
      });
    `);
    const host = await createTestHost({ plugin: dir });
    await host.send(chat('a'), chat('slow'), chat('b'), chat('slow'), chat('c'));
    expect(host.logs.map((entry) => entry.message)).toEqual(['a', 'slow', 'b', 'slow', 'c']);
    await host.close();
  });
});

describe('bundling', () => {
  it.each([
    ['a Node built-in', `import { readFileSync } from 'node:fs'; export default { setup() { readFileSync('x'); } };`, '"node:fs" cannot be imported'],
    ['a package', `import pad from 'left-pad'; export default { setup() { pad(); } };`, '"left-pad" cannot be imported'],
    ['a file outside the folder', `import x from '../../etc/passwd.js'; export default { setup() { x(); } };`, 'is outside the plugin\'s folder'],
    ['a syntax error', `export default { setup( };`, 'index.ts:1:'],
  ])('rejects %s with a clear message', async (_, source, message) => {
    const dir = writePlugin(source);
    const error = await bundlePlugin(dir, 'index.ts').catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(PluginBuildError);
    expect((error as Error).message).toContain(message);
  });

  it("bundles the plugin's own files and the SDK", async () => {
    const dir = writePlugin(
      `import { definePlugin, EVENT_TYPES } from '@ttlp/sdk'; import { twice } from './lib/twice.ts';
       export default definePlugin({ setup(ctx) { ctx.on('CHAT', () => ctx.overlay.send('main', twice(EVENT_TYPES.length))); } });`,
      {},
      { 'lib/twice.ts': 'export const twice = (n: number) => n * 2;' },
    );
    const host = await createTestHost({ plugin: dir });
    await host.send(chat('x'));
    expect(host.messages('main')).toEqual([26]);
    await host.close();
  });
});
