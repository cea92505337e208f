/**
 * Hostile plugins, each contained: it gets nothing of the host, its faults are recorded, and a
 * well-behaved plugin running beside it receives every event.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UnifiedEvent } from '../contract/unified-event.ts';
import { createTestHost, makeEvent, ROOMY_CPU_LIMITS, type TestHost } from '../testing/index.ts';
import { writePlugin } from '../../test/support/plugin-dir.ts';
import { bundlePlugin } from './bundle.ts';
import type { SandboxLimits } from './budgets.ts';

const EVENTS = 12;

/** The events of the last run of `besideAGoodPlugin`. */
let sent: UnifiedEvent[] = [];
const events = () => Array.from({ length: EVENTS }, (_, i) => makeEvent('CHAT', { message: `m${i}` }));

const wellBehaved = () =>
  createTestHost({
    plugin: writePlugin(`
      import { definePlugin } from '@ttlp/sdk';
      export default definePlugin({ setup(ctx) { ctx.on('CHAT', (e) => ctx.overlay.send('main', e.payload.message)); } });
    `),
    limits: ROOMY_CPU_LIMITS,
  });

/** Runs `hostile` and a well-behaved plugin side by side over the same events, delivered as one batch. */
async function besideAGoodPlugin(source: string, limits: Partial<SandboxLimits> = {}): Promise<TestHost> {
  const hostile = await createTestHost({ plugin: writePlugin(source), limits: { ...ROOMY_CPU_LIMITS, ...limits } });
  const good = await wellBehaved();
  sent = events();
  await Promise.all([hostile.send(...sent), good.send(...sent)]);
  expect(good.messages('main')).toEqual(Array.from({ length: EVENTS }, (_, i) => `m${i}`));
  expect(good.faults).toEqual([]);
  await good.close();
  return hostile;
}

const plugin = (body: string) => `
  import { definePlugin } from '@ttlp/sdk';
  export default definePlugin({ setup(ctx) { ${body} } });
`;

describe('hostile plugins', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('find no process, require, module loader or host globals, also through the Function constructor', async () => {
    const hostile = await besideAGoodPlugin(
      plugin(`
        ctx.on('CHAT', async () => {
          const g = globalThis as any;
          let viaConstructor: string;
          try { viaConstructor = typeof g.constructor.constructor('return process')(); } catch (e) { viaConstructor = 'threw'; }
          let viaImport: string;
          try { const name = ['f', 's'].join(''); await import(name); viaImport = 'loaded'; } catch (e) { viaImport = 'refused'; }
          await ctx.overlay.send('main', {
            process: typeof g.process, require: typeof g.require, Buffer: typeof g.Buffer, fetch: typeof g.fetch,
            viaConstructor, viaImport,
          });
        });
      `),
    );
    expect(new Set(hostile.messages('main').map((m) => JSON.stringify(m)))).toEqual(
      new Set([JSON.stringify({ process: 'undefined', require: 'undefined', Buffer: 'undefined', fetch: 'undefined', viaConstructor: 'threw', viaImport: 'refused' })]),
    );
    await hostile.close();
  });

  it("cannot import a Node module even dynamically: the build refuses it", async () => {
    const dir = writePlugin(plugin(`ctx.on('CHAT', async () => { await import('fs'); });`));
    await expect(bundlePlugin(dir, 'index.ts')).rejects.toThrow('"fs" cannot be imported');
  });

  it('cannot pollute prototypes on the host through the values it returns', async () => {
    const hostile = await besideAGoodPlugin(
      plugin(`
        ctx.on('CHAT', () => {
          (Object.prototype as any).polluted = 'inside';
          return ctx.overlay.send('main', JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}'));
        });
      `),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(hostile.messages('main')[0])).toBe(Object.prototype);
    expect(hostile.faults).toEqual([]);
    await hostile.close();
  });

  it('a synchronous infinite loop is stopped at the CPU limit', async () => {
    const hostile = await besideAGoodPlugin(plugin(`ctx.on('CHAT', () => { for (;;) {} });`), { cpuMsPerRun: 20, maxFaults: 100 });
    expect(hostile.faults).toHaveLength(EVENTS);
    expect(hostile.faults.every((fault) => fault.kind === 'timeout')).toBe(true);
    await hostile.close();
  });

  it('a promise-chain infinite loop is stopped at the CPU limit', async () => {
    const hostile = await besideAGoodPlugin(plugin(`ctx.on('CHAT', async () => { for (;;) await null; });`), { cpuMsPerRun: 20, maxFaults: 100 });
    expect(hostile.faults.map((fault) => fault.kind)).toEqual(Array(EVENTS).fill('timeout'));
    await hostile.close();
  });

  it('an async loop through host calls is stopped at the wall deadline, and the isolate restarted', async () => {
    const hostile = await besideAGoodPlugin(
      plugin(`ctx.on('CHAT', async () => { for (;;) await ctx.kv.get('spin'); });`),
      { wallMsPerRun: 50, maxFaults: 100 },
    );
    expect(hostile.faults.map((fault) => fault.kind)).toEqual(Array(EVENTS).fill('deadline'));
    await hostile.close();
  });

  it('a timer chain that burns CPU is stopped by the CPU share and then disabled', async () => {
    // A fixed amount of work per timer, not a time: the share it takes of a second is then all the CPU the machine gives it.
    const hostile = await createTestHost({
      plugin: writePlugin(plugin(`const burn = () => { let x = 0; for (let i = 0; i < 5e6; i++) x += i % 7; ctx.setTimeout(burn, 0); return x; }; burn();`)),
      limits: { ...ROOMY_CPU_LIMITS, cpuMsPerSecond: 20 },
    });
    const good = await wellBehaved();
    await expect
      .poll(async () => {
        await good.send(makeEvent('CHAT', { message: 'tick' }));
        return hostile.disabled;
      })
      .toMatch(/5 faults within 60 s/);
    expect(hostile.faults.some((fault) => fault.kind === 'cpu')).toBe(true);
    expect(good.faults).toEqual([]);
    await hostile.close();
    await good.close();
  });

  it('a memory bomb is stopped at the heap limit and the plugin restarted', async () => {
    const hostile = await besideAGoodPlugin(
      plugin(`
        ctx.on('CHAT', (e) => {
          if (e.payload.message !== 'm3') return ctx.overlay.send('main', e.payload.message);
          const hoard: string[][] = [];
          for (;;) hoard.push(new Array(100000).fill('x'.repeat(64)));
        });
      `),
      { heapMb: 16, cpuMsPerRun: 5000 },
    );
    expect(hostile.faults.map((fault) => fault.kind)).toEqual(['memory']);
    // The fault is the event's that caused it, though it shared an entry into the isolate with others.
    expect(hostile.faults[0]!.run.eventId).toBe(sent[3]!.eventId);
    expect(hostile.overlay.map((entry) => entry.eventId)).toEqual(sent.filter((_, i) => i !== 3).map((event) => event.eventId));
    // Handled before the fault, then after the restart: every event but the bomb.
    expect(hostile.messages('main')).toEqual(Array.from({ length: EVENTS }, (_, i) => `m${i}`).filter((m) => m !== 'm3'));
    await hostile.close();
  });

  it('a huge overlay message is refused and recorded', async () => {
    const hostile = await besideAGoodPlugin(plugin(`ctx.on('CHAT', () => ctx.overlay.send('main', 'x'.repeat(70000)).catch(() => {}));`), { maxFaults: 100 });
    expect(hostile.messages('main')).toEqual([]);
    expect(hostile.faults.map((fault) => fault.kind)).toEqual(Array(EVENTS).fill('limit'));
    expect(hostile.faults[0]!.message).toContain('exceeds the limit of 65536');
    await hostile.close();
  });

  it('arguments past the size of a call are refused inside the isolate: the host is told only their length', async () => {
    const hostile = await besideAGoodPlugin(
      plugin(`ctx.on('CHAT', async () => {
        await ctx.overlay.send('main', 'x'.repeat(5000)).catch((error) => ctx.log.warn(error.message));
        await ctx.kv.set('k', 'y'.repeat(5000)).catch((error) => ctx.log.warn(error.message));
      });`),
      { maxFaults: 100, callMaxChars: 4096 },
    );
    expect(hostile.messages('main')).toEqual([]);
    expect(hostile.kv.size).toBe(0);
    const overlayChars = JSON.stringify({ channel: 'main', data: 'x'.repeat(5000), kind: 'message' }).length;
    const kvChars = JSON.stringify({ key: 'k', value: 'y'.repeat(5000) }).length;
    expect(new Set(hostile.logs.map((line) => line.message))).toEqual(
      new Set([`a call of ${overlayChars} characters to overlay exceeds the limit of 4096`, `a call of ${kvChars} characters to kvSet exceeds the limit of 4096`]),
    );
    expect(hostile.faults.map((fault) => fault.kind)).toEqual(Array(EVENTS).fill('limit'));
    await hostile.close();
  });

  it.each([
    ['a NUL in a kv value', `ctx.kv.set('k', 'a\\u0000b')`, 'the data passed to kvSet contains a NUL character'],
    ['a NUL in a kv key', `ctx.kv.set('k\\u0000', 'v')`, 'the data passed to kvSet contains a NUL character'],
    ['an unpaired surrogate in an overlay message', `ctx.overlay.send('main', { text: 'a\\ud800' })`, 'the data passed to overlay contains an unpaired surrogate'],
    ['a NUL in an object key of an overlay message', `ctx.overlay.send('main', { ['a\\u0000']: 1 })`, 'the data passed to overlay contains a NUL character'],
    ['an overlay message nested 100 levels deep', `ctx.overlay.send('main', JSON.parse('['.repeat(100) + ']'.repeat(100)))`, 'the data passed to overlay nests more than 64 levels deep'],
  ])('%s is refused at the boundary as a limit fault, before any service sees it', async (_what, send, reason) => {
    const hostile = await besideAGoodPlugin(plugin(`ctx.on('CHAT', () => ${send}.catch((error) => ctx.log.warn(error.message)));`), { maxFaults: 100 });
    expect(hostile.messages('main')).toEqual([]);
    expect(hostile.kvChanges).toEqual([]);
    expect(hostile.faults.map((fault) => fault.kind)).toEqual(Array(EVENTS).fill('limit'));
    expect(hostile.faults[0]!.message).toContain(reason);
    expect(hostile.logs[0]!.message).toContain(reason);
    await hostile.close();
  });

  it("its errors reach the host's record of its faults as storable text, also when thrown after its run ended", async () => {
    const hostile = await besideAGoodPlugin(
      plugin(`ctx.on('CHAT', async (e) => {
        if (e.payload.message === 'm0') throw new Error('nul \\u0000 and half a pair \\ud83d');
        await null;
        throw new Error('later \\u0000');
      });`),
      { maxFaults: 100 },
    );
    expect(hostile.faults.map((fault) => fault.kind)).toEqual(Array(EVENTS).fill('error'));
    expect(hostile.faults[0]!.message).toContain('nul \ufffd and half a pair \ufffd');
    expect(hostile.faults[1]!.message).toContain('later \ufffd');
    await hostile.close();
  });

  it('a log flood is capped at the burst, then at the rate', async () => {
    // The host's clock stands still, so the bucket refills only when the test moves it.
    vi.useFakeTimers({ toFake: ['Date'] });
    const hostile = await besideAGoodPlugin(
      plugin(`ctx.on('CHAT', () => { for (let i = 0; i < 1000; i++) { try { ctx.log.info('spam ' + i); } catch {} } });`),
      { maxFaults: 100, logBurst: 10, logPerSecond: 5 },
    );
    expect(hostile.logs).toHaveLength(10);
    expect(hostile.faults.map((fault) => fault.kind)).toEqual(Array(EVENTS).fill('limit'));
    vi.setSystemTime(Date.now() + 1000);
    await hostile.send(makeEvent('CHAT', { message: 'a second later' }));
    expect(hostile.logs).toHaveLength(15);
    await hostile.close();
  });

  it('a plugin whose isolate cannot even start is disabled, not thrown at the host', async () => {
    const host = await createTestHost({ plugin: writePlugin(plugin(`ctx.on('CHAT', () => {});`)), limits: { heapMb: 1 } });
    expect(host.disabled).toMatch(/^the plugin's isolate could not be started: /);
    await host.send(makeEvent('CHAT', { message: 'ignored' }));
    await host.close();
  });

  it('cannot make the host loop or crash by replacing its entry points', async () => {
    for (const answer of ['0', '-1', "'not json'", '{ count: 1e9 }', 'undefined']) {
      const hostile = await besideAGoodPlugin(`
        import { definePlugin } from '@ttlp/sdk';
        (globalThis as any).__ttlp.dispatch = () => ${answer};
        export default definePlugin({ setup(ctx) { ctx.on('CHAT', () => {}); } });
      `, { maxFaults: 100 });
      expect(hostile.faults.map((fault) => fault.kind)).toEqual(Array(EVENTS).fill('crash'));
      await hostile.close();
    }
  });

  it('repeated faults disable the plugin with the reason', async () => {
    const hostile = await besideAGoodPlugin(plugin(`ctx.on('CHAT', () => { throw new Error('always'); });`));
    expect(hostile.faults).toHaveLength(5);
    expect(hostile.disabled).toContain('5 faults within 60 s; the last: ');
    expect(hostile.disabled).toContain('always');
    await hostile.close();
  });
});
