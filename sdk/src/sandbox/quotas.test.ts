/**
 * The quotas a plugin runs within, each enforced host-side: a call past one is refused with the
 * reason (the plugin's call throws or rejects with it) and is a `limit` fault of its run; the
 * plugin goes on working within the quota. Rates are tested on a clock that stands still (only
 * `Date` is faked), moved by the test.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestHost, makeEvent, ROOMY_CPU_LIMITS, type TestHost, type TestHostOptions } from '../testing/index.ts';
import { writePlugin } from '../../test/support/plugin-dir.ts';
import { DEFAULT_LIMITS, pluginQuotas, type SandboxLimits } from './budgets.ts';

const plugin = (body: string) => `
  import { definePlugin } from '@ttlp/sdk';
  export default definePlugin({ setup(ctx) { ${body} } });
`;

/** Records why a call was refused as a log line (the plugin's view of the refusal). */
const REFUSED = `const refused = (error: unknown) => ctx.log.warn(String((error as Error).message));`;

const hosts: TestHost[] = [];
/** The plugin of `source`, allowed everything, with `limits` (and no disabling: every fault is seen). */
async function start(source: string, limits: Partial<SandboxLimits>, options: Pick<TestHostOptions, 'kv' | 'http'> = {}): Promise<TestHost> {
  const permissions = { events: ['*'], kv: true, http: ['https://hooks.example.com/**'] };
  const host = await createTestHost({ plugin: writePlugin(source, { permissions }), limits: { ...ROOMY_CPU_LIMITS, maxFaults: 100, ...limits }, ...options });
  hosts.push(host);
  return host;
}

const chat = (message: string) => makeEvent('CHAT', { message });
const faultsOf = (host: TestHost) => host.faults.map((fault) => `${fault.kind}: ${fault.message}`);
const refusals = (host: TestHost) => host.logs.filter((line) => line.level === 'warn').map((line) => line.message);
/** Moves the host's clock (and only it) on. */
const later = (ms: number) => vi.setSystemTime(Date.now() + ms);

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
  vi.useRealTimers();
});

describe('overlay messages', () => {
  it('are capped per run: past the cap a message is refused with a fault of that event, the next event sends again', async () => {
    const host = await start(
      plugin(`${REFUSED}
        for (let i = 0; i < 4; i++) ctx.overlay.send('main', 'setup ' + i).catch(refused);
        ctx.on('CHAT', (e) => {
          const count = Number(e.payload.message);
          for (let i = 0; i < count; i++) ctx.overlay.setState('main', i).catch(refused);
        });
      `),
      { overlayPerRun: 3 },
    );
    expect(faultsOf(host)).toEqual(['limit: more than 3 overlay messages in setup']);
    const flood = chat('10');
    await host.send(flood, chat('3'));
    expect(host.overlay.filter((entry) => entry.eventId === flood.eventId)).toHaveLength(3);
    expect(host.overlay).toHaveLength(3 + 3 + 3);
    expect(faultsOf(host)).toEqual(['limit: more than 3 overlay messages in setup', 'limit: more than 3 overlay messages in one event']);
    expect(host.faults[1]!.run.eventId).toBe(flood.eventId);
    expect(new Set(refusals(host))).toEqual(new Set(['more than 3 overlay messages in setup', 'more than 3 overlay messages in one event']));
    expect(host.disabled).toBeUndefined();
  });

  it('are rate limited per second, in bursts: refused past the burst, sent again once the rate allows', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const host = await start(plugin(`${REFUSED} ctx.on('CHAT', (e) => void ctx.overlay.send('main', e.payload.message).catch(refused));`), {
      overlayPerSecond: 5,
      overlayBurst: 10,
    });
    await host.send(...Array.from({ length: 12 }, (_, i) => chat(`m${i}`)));
    expect(host.messages('main')).toHaveLength(10);
    expect(faultsOf(host)).toEqual(Array(2).fill('limit: more than 5 overlay messages per second'));
    expect(refusals(host)).toEqual(Array(2).fill('more than 5 overlay messages per second'));
    later(1000);
    await host.send(...Array.from({ length: 5 }, (_, i) => chat(`n${i}`)));
    expect(host.messages('main')).toHaveLength(15);
    expect(host.faults).toHaveLength(2);
  });
});

describe('log lines', () => {
  it('are rate limited by their bytes too (message and fields as JSON)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    // 90 bytes of message and 410 of fields ({"pad":"…"}): 500 bytes a line.
    const host = await start(
      plugin(`ctx.on('CHAT', () => { try { ctx.log.info('x'.repeat(90), { pad: 'y'.repeat(400) }); } catch (error) { ctx.overlay.send('main', String((error as Error).message)); } });`),
      { logBytesPerSecond: 1000, logBytesBurst: 2000 },
    );
    await host.send(...Array.from({ length: 6 }, (_, i) => chat(`m${i}`)));
    expect(host.logs).toHaveLength(4);
    expect(faultsOf(host)).toEqual(Array(2).fill('limit: more than 1000 bytes of log lines per second'));
    expect(host.messages('main')).toEqual(Array(2).fill('more than 1000 bytes of log lines per second'));
    later(1000);
    await host.send(...Array.from({ length: 3 }, (_, i) => chat(`n${i}`)));
    expect(host.logs).toHaveLength(6);
    expect(host.faults).toHaveLength(3);
  });
});

describe('http requests', () => {
  it('are counted when made, at most so many in any minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const host = await start(
      plugin(`${REFUSED} ctx.on('CHAT', async (e) => { await ctx.http.fetch('https://hooks.example.com/' + e.payload.message).catch(refused); });`),
      { httpPerMinute: 3 },
    );
    await host.send(...Array.from({ length: 5 }, (_, i) => chat(`m${i}`)));
    expect(host.httpCalls.map((call) => call.url)).toEqual(['https://hooks.example.com/m0', 'https://hooks.example.com/m1', 'https://hooks.example.com/m2']);
    expect(faultsOf(host)).toEqual(Array(2).fill('limit: more than 3 http requests per minute'));
    expect(refusals(host)).toEqual(Array(2).fill('more than 3 http requests per minute'));
    later(59_000);
    await host.send(chat('still'));
    expect(host.httpCalls).toHaveLength(3);
    later(1_000);
    await host.send(chat('later'));
    expect(host.httpCalls.at(-1)!.url).toBe('https://hooks.example.com/later');
    expect(host.faults).toHaveLength(3);
  });
});

describe('kv and http requests', () => {
  it('are capped at so many waiting at once; one refused after its run ended (not awaited) is a fault all the same', async () => {
    let answer: () => void = () => {};
    const answered = new Promise<void>((resolve) => (answer = resolve));
    // Every request waits until the test answers them all.
    const waiting = async () => {
      await answered;
      return { body: 'ok' };
    };
    const urls = ['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2'].map((path) => `https://hooks.example.com/${path}`);
    const host = await start(
      plugin(`${REFUSED} ctx.on('CHAT', (e) => { for (let i = 0; i < Number(e.payload.message.slice(1)); i++) void ctx.http.fetch('https://hooks.example.com/' + e.payload.message[0] + i).then(() => ctx.log.info('answered'), refused); });`),
      { requestsWaiting: 3 },
      { http: Object.fromEntries(urls.map((url) => [url, waiting])) },
    );
    await host.send(chat('a5'));
    // The handler returned at once: both refusals come after its run ended, and count as one fault of it.
    await vi.waitFor(() => expect(refusals(host)).toHaveLength(2));
    expect(refusals(host)).toEqual(Array(2).fill('more than 3 kv and http requests waiting for their answer at once'));
    expect(faultsOf(host)).toEqual(['limit: more than 3 kv and http requests waiting for their answer at once']);
    expect(host.httpCalls.map((call) => call.url)).toEqual(urls.slice(0, 3));
    answer();
    await vi.waitFor(() => expect(host.logs.filter((line) => line.message === 'answered')).toHaveLength(3));
    // Answered, they no longer count.
    await host.send(chat('b3'));
    expect(host.httpCalls.map((call) => call.url)).toEqual([...urls.slice(0, 3), ...urls.slice(5)]);
    expect(host.faults).toHaveLength(1);
  });

  it('refused by the kv quota when not awaited are faults too', async () => {
    const host = await start(plugin(`${REFUSED} ctx.on('CHAT', () => { for (let i = 0; i < 5; i++) void ctx.kv.set('k' + i, i).catch(refused); });`), { kvKeys: 3 });
    await host.send(chat('go'));
    await vi.waitFor(() => expect(refusals(host)).toEqual(['more than 3 kv keys', 'more than 3 kv keys']));
    expect(faultsOf(host)).toEqual(['limit: more than 3 kv keys']);
    expect([...host.kv.keys()]).toEqual(['k0', 'k1', 'k2']);
  });
});

describe('timers', () => {
  it('are capped at the timers alive at once, intervals included; a cleared or fired timer frees its place', async () => {
    const host = await start(
      plugin(`${REFUSED}
        const intervals = [ctx.setInterval(() => {}, 3_600_000), ctx.setInterval(() => {}, 3_600_000), ctx.setInterval(() => {}, 3_600_000)];
        ctx.on('CHAT', (e) => {
          const what = e.payload.message;
          try {
            if (what === 'clear') ctx.clearInterval(intervals.pop()!);
            if (what === 'soon') ctx.setTimeout(() => ctx.log.info('fired'), 10);
            if (what === 'more') ctx.setTimeout(() => {}, 3_600_000);
          } catch (error) { refused(error); }
        });
      `),
      { maxTimers: 3 },
    );
    await host.send(chat('more'));
    expect(faultsOf(host)).toEqual(['limit: more than 3 timers at once']);
    expect(refusals(host)).toEqual(['more than 3 timers at once']);
    await host.send(chat('clear'), chat('soon'), chat('more'));
    expect(host.faults).toHaveLength(2);
    await vi.waitFor(() => expect(host.logs.map((line) => line.message)).toContain('fired'));
    await host.send(chat('more'));
    expect(host.faults).toHaveLength(2);
  });
});

describe('kv', () => {
  it('is capped in keys and bytes, counting what was stored before; a delete or a smaller value frees room', async () => {
    const host = await start(
      plugin(`${REFUSED}
        ctx.on('CHAT', async (e) => {
          const [op, key, size] = e.payload.message.split(' ');
          if (op === 'set') await ctx.kv.set(key, 'v'.repeat(Number(size))).catch(refused);
          if (op === 'delete') await ctx.kv.delete(key);
        });
      `),
      { kvKeys: 3, kvBytes: 100 },
      // 22 bytes of JSON ("xxxx…"), stored before the plugin starts.
      { kv: { before: 'x'.repeat(20) } },
    );
    await host.send(chat('set a 8'), chat('set b 8'), chat('set c 8'));
    expect([...host.kv.keys()]).toEqual(['before', 'a', 'b']);
    expect(faultsOf(host)).toEqual(['limit: more than 3 kv keys']);
    expect(refusals(host)).toEqual(['more than 3 kv keys']);
    await host.send(chat('delete a'), chat('set c 8'));
    expect([...host.kv.keys()]).toEqual(['before', 'b', 'c']);
    // 22 + 10 + 10 bytes stored: b may grow to 68 bytes (66 characters and the quotes), not to 82.
    await host.send(chat('set b 80'));
    expect(host.kv.get('b')).toBe('v'.repeat(8));
    expect(faultsOf(host).at(-1)).toBe('limit: more than 100 bytes in kv');
    await host.send(chat('set b 66'));
    expect(host.kv.get('b')).toBe('v'.repeat(66));
    expect(host.faults).toHaveLength(2);
  });
});

describe('a kv value', () => {
  it('is refused past its size with a fault, as the quotas are', async () => {
    const host = await start(plugin(`${REFUSED} ctx.on('CHAT', async (e) => { await ctx.kv.set('k', 'v'.repeat(Number(e.payload.message))).catch(refused); });`), { kvValueMaxBytes: 100 });
    await host.send(chat('99'), chat('98'));
    expect(host.kv.get('k')).toBe('v'.repeat(98));
    expect(faultsOf(host)).toEqual(['limit: a kv value is at most 100 bytes']);
    expect(refusals(host)).toEqual(['a kv value is at most 100 bytes']);
  });
});

describe('the quotas shown for a plugin', () => {
  it('are its sandbox limits', () => {
    expect(pluginQuotas({ ...DEFAULT_LIMITS, heapMb: 128, httpPerMinute: 10 })).toEqual({
      memoryMb: 128,
      cpuMsPerSecond: DEFAULT_LIMITS.cpuMsPerSecond,
      overlayPerRun: DEFAULT_LIMITS.overlayPerRun,
      overlayPerSecond: DEFAULT_LIMITS.overlayPerSecond,
      kvKeys: DEFAULT_LIMITS.kvKeys,
      kvBytes: DEFAULT_LIMITS.kvBytes,
      logLinesPerSecond: DEFAULT_LIMITS.logPerSecond,
      logBytesPerSecond: DEFAULT_LIMITS.logBytesPerSecond,
      httpPerMinute: 10,
      timers: DEFAULT_LIMITS.maxTimers,
    });
  });
});
