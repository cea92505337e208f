import { afterEach, describe, expect, it } from 'vitest';
import type { Json } from '@ttlp/sdk';
import { bundlePlugin, type Fault, type PluginBundle, type SandboxServices } from '@ttlp/sdk/sandbox';
import { makeEvent } from '@ttlp/sdk/testing';
import { FAULTY_ENTRY, faultyLine, writeFaultyPlugin } from '../../../../sdk/test/support/faulty-plugin.ts';
import { writePlugin } from '../../../../sdk/test/support/plugin-dir.ts';
import { ThreadedSandbox, type ThreadedSandboxOptions } from './threaded-sandbox.ts';

const started: ThreadedSandbox[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sandbox) => sandbox.close()));
});

/** What the plugin did, as the host's services heard it. */
function recordingServices(kvGet: (key: string) => Promise<Json | undefined> = async () => undefined) {
  const heard = { overlay: [] as Json[], kv: new Map<string, Json>(), logs: [] as string[], faults: [] as Fault[] };
  const services: SandboxServices = {
    overlay: (_channel, data) => void heard.overlay.push(data),
    log: (_level, message) => void heard.logs.push(message),
    kvGet: async (key) => heard.kv.get(key) ?? kvGet(key),
    kvSet: async (key, value) => {
      if (key === 'full') throw Object.assign(new Error('more than 3 kv keys'), { name: 'QuotaExceeded' });
      heard.kv.set(key, value);
    },
    kvDelete: async (key) => void heard.kv.delete(key),
    fetch: async () => ({ status: 204, headers: {}, body: '' }),
  };
  return { heard, services };
}

async function start(source: string, services: SandboxServices, options: Partial<ThreadedSandboxOptions> = {}) {
  return startBundle(await bundlePlugin(writePlugin(source), 'index.ts'), services, options);
}

async function startBundle(bundle: PluginBundle, services: SandboxServices, options: Partial<ThreadedSandboxOptions> = {}) {
  const sandbox = await ThreadedSandbox.start({ pluginId: 'threaded', ...bundle, config: {}, grants: ['events:*', 'kv', 'overlay:main'], limits: undefined, services, ...options });
  started.push(sandbox);
  return sandbox;
}

const chats = (count: number) => Array.from({ length: count }, (_, i) => makeEvent('CHAT', { message: `m${i}` }));
const jsonOf = (events: unknown[]) => events.map((event) => JSON.stringify(event));

describe('a plugin in a worker thread', () => {
  it('handles the events it subscribed to in order, its calls served by the host, its output complete when the batch is done', async () => {
    const { heard, services } = recordingServices();
    const sandbox = await start(
      `import { definePlugin } from '@ttlp/sdk';
       export default definePlugin({ setup(ctx) {
         ctx.on('CHAT', async (event) => {
           const seen = ((await ctx.kv.get('seen')) ?? 0) + 1;
           await ctx.kv.set('seen', seen);
           ctx.overlay.send('main', { message: event.payload.message, seen });
           ctx.log.info('seen ' + seen);
         });
       } });`,
      services,
    );
    expect(sandbox.wants('CHAT')).toBe(true);
    expect(sandbox.wants('GIFT')).toBe(false);
    const events = [...chats(3), makeEvent('GIFT', { giftId: 1, giftName: 'Rose', giftCount: 1, coins: 1 })];
    expect(await sandbox.dispatchMany(events, jsonOf(events))).toEqual([]);
    expect(heard.overlay).toEqual([
      { message: 'm0', seen: 1 },
      { message: 'm1', seen: 2 },
      { message: 'm2', seen: 3 },
    ]);
    expect(heard.logs).toEqual(['seen 1', 'seen 2', 'seen 3']);
    expect(heard.kv.get('seen')).toBe(3);
  });

  it("keeps this thread's event loop turning while the plugin burns its CPU budget", async () => {
    const { services } = recordingServices();
    const sandbox = await start(
      `import { definePlugin } from '@ttlp/sdk';
       export default definePlugin({ setup(ctx) { ctx.on('CHAT', () => { for (;;) {} }); } });`,
      services,
      { limits: { cpuMsPerRun: 200, maxFaults: 100 } },
    );
    let turns = 0;
    let turning = true;
    const turn = () => {
      turns += 1;
      if (turning) setImmediate(turn);
    };
    turn();
    const events = chats(2);
    const faults = await sandbox.dispatchMany(events, jsonOf(events));
    turning = false;
    expect(faults.map((fault) => fault.kind)).toEqual(['timeout', 'timeout']);
    // Run on this thread, each loop would have held it for its whole budget: a couple of turns in all.
    expect(turns).toBeGreaterThan(50);
  });

  it('hears faults and the reason it was disabled; a refusal of the host reaches the plugin by name', async () => {
    const { services } = recordingServices();
    const faults: Fault[] = [];
    let disabled: string | undefined;
    const sandbox = await start(
      `import { definePlugin } from '@ttlp/sdk';
       export default definePlugin({ setup(ctx) {
         ctx.on('CHAT', async () => { await ctx.kv.set('full', 1); });
       } });`,
      services,
      { limits: { maxFaults: 2 }, onFault: (fault) => faults.push(fault), onDisabled: (reason) => (disabled = reason) },
    );
    const events = chats(3);
    await sandbox.dispatchMany(events, jsonOf(events));
    expect(faults[0]).toMatchObject({ run: { kind: 'event', eventId: events[0]!.eventId } });
    expect(faults[0]!.message).toContain('more than 3 kv keys');
    expect(disabled).toMatch(/^2 faults within 60 s/);
    expect(sandbox.disabled).toBe(disabled);
    expect(sandbox.wants('CHAT')).toBe(false);
  });

  it('counts a fault the host found towards disabling the plugin', async () => {
    const { services } = recordingServices();
    const faults: Fault[] = [];
    const sandbox = await start(
      `import { definePlugin } from '@ttlp/sdk';
       export default definePlugin({ setup(ctx) { ctx.on('CHAT', () => {}); } });`,
      services,
      { limits: { maxFaults: 2 }, onFault: (fault) => faults.push(fault) },
    );
    await sandbox.noteFault({ kind: 'limit', message: 'fell behind' }, { kind: 'event' });
    await sandbox.noteFault({ kind: 'limit', message: 'fell behind again' }, { kind: 'event' });
    expect(faults.map((fault) => fault.message)).toEqual(['fell behind', 'fell behind again']);
    expect(sandbox.disabled).toMatch(/2 faults within 60 s; the last: fell behind again/);
  });

  it('stops a dispatch after the event in hand when told to', async () => {
    let asked = 0;
    let answer: (value: Json) => void = () => undefined;
    const { heard, services } = recordingServices(() => {
      asked += 1;
      return new Promise((resolve) => (answer = resolve));
    });
    const sandbox = await start(
      `import { definePlugin } from '@ttlp/sdk';
       export default definePlugin({ setup(ctx) {
         ctx.on('CHAT', async (event) => { await ctx.kv.get('slow'); ctx.overlay.send('main', event.payload.message); });
       } });`,
      services,
    );
    const events = chats(3);
    const dispatched = sandbox.dispatchMany(events, jsonOf(events));
    await expect.poll(() => asked).toBe(1);
    sandbox.stopDispatch();
    answer(null);
    expect(await dispatched).toEqual([]);
    expect(asked).toBe(1);
    expect(heard.overlay).toEqual(['m0']);
  });

  it("points faults at the plugin's source, also after a reload: a handler, an await, a timer, setup", async () => {
    const { services } = recordingServices();
    const faults: Fault[] = [];
    const bundle = await bundlePlugin(writeFaultyPlugin(), FAULTY_ENTRY);
    const sandbox = await startBundle(bundle, services, { limits: { maxFaults: 100 }, onFault: (fault) => faults.push(fault) });
    const events = [makeEvent('CHAT', { message: 'hi' }), makeEvent('GIFT', { giftId: 1, giftName: 'Rose', giftCount: 1, coins: 1 }), makeEvent('LIKE', { likeCount: 1, totalLikeCount: 1 })];
    await sandbox.dispatchMany(events, jsonOf(events));
    await expect.poll(() => faults.length).toBe(3);
    await sandbox.reload(bundle, { failSetup: true });
    await expect.poll(() => faults.length).toBe(4);
    const lines = ["'sync boom'", "'async boom'", "'timer boom'", "'setup boom'"].map((text) => `src/index.ts:${faultyLine(text)}:`);
    expect(faults.map((fault) => lines.find((line) => fault.message.includes(line)))).toEqual(lines);
    expect(faults.map((fault) => fault.message).join('\n')).not.toMatch(/plugin-bundle\.js|ttlp-prelude\.js/);
  });

  it('disables a plugin whose setup fails, with the reason, without throwing', async () => {
    const { services } = recordingServices();
    const sandbox = await start(
      `import { definePlugin } from '@ttlp/sdk';
       export default definePlugin({ setup() { throw new Error('no config'); } });`,
      services,
      { limits: { maxFaults: 1 } },
    );
    expect(sandbox.disabled).toMatch(/no config/);
  });

  it('closes by letting its worker end once the plugin is closed, not by terminating it', async () => {
    const { services } = recordingServices();
    const sandbox = await start(
      `import { definePlugin } from '@ttlp/sdk';
       export default definePlugin({ setup(ctx) { ctx.on('CHAT', () => {}); ctx.setInterval(() => {}, 1000); } });`,
      services,
    );
    started.splice(started.indexOf(sandbox), 1);
    const worker = (sandbox as unknown as { worker: import('node:worker_threads').Worker }).worker;
    let terminated = false;
    const terminate = worker.terminate.bind(worker);
    worker.terminate = async () => {
      terminated = true;
      return terminate();
    };
    const exitCode = new Promise<number>((resolve) => worker.once('exit', resolve));
    await sandbox.close();
    expect([terminated, await exitCode]).toEqual([false, 0]);
  });
});
