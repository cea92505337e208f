/**
 * Hostile plugins, one per way a third party's code could try to slow, stall or wedge the host or
 * the plugins beside it. Each is a real plugin folder (see `plugin-root.ts`) that subscribes to
 * GIFT, so it misbehaves at the pace of the suite's traffic; its overlay channel is `hostile`.
 * Also the local HTTP server that never answers, for the requests that hang.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TestPluginSpec } from './plugin-root.ts';

/**
 * What the suite asserts of the hostile plugin itself (besides the canary and the host's loop):
 * `faulted` — it ends faulted or disabled, with the reason stored; `falls-behind` — it is merely
 * slow, so it falls behind on its own while the canary keeps up.
 */
export type HostileOutcome = 'faulted' | 'falls-behind';

export interface HostileVector {
  /** The plugin's id (`hostile-…`), also the vector's name in reports. */
  id: string;
  title: string;
  expect: HostileOutcome;
  /**
   * Its data is larger than the heap of the worker thread that holds the plugin's isolate: run in
   * a process of its own first (`crash-probe.ts`), since a fatal out-of-memory there ends the process.
   */
  mayCrashTheProcess?: boolean;
  /** The plugin; `hangOrigin` is the origin of a server that never answers, granted to it exactly. */
  plugin(hangOrigin: string): TestPluginSpec;
}

const definePlugin = (body: string) => `
  import { definePlugin } from '@ttlp/sdk';
  export default definePlugin({
    setup(ctx: any) {
      ${body}
    },
  });
`;

/** A vector whose plugin needs only GIFT events and its `hostile` channel (and kv, when asked). */
function vector(id: string, title: string, body: string, options: { kv?: boolean; expect?: HostileOutcome; mayCrashTheProcess?: boolean } = {}): HostileVector {
  return {
    id: `hostile-${id}`,
    title,
    expect: options.expect ?? 'faulted',
    ...(options.mayCrashTheProcess ? { mayCrashTheProcess: true } : {}),
    plugin: () => ({
      id: `hostile-${id}`,
      permissions: { events: ['GIFT'], ...(options.kv ? { kv: true } : {}) },
      overlayChannels: ['hostile'],
      source: definePlugin(body),
    }),
  };
}

/** `(module (func (export "spin") (loop (br 0))))`: a loop that never ends, in WebAssembly. */
const SPIN_WASM = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x08, 0x01, 0x04, 0x73, 0x70, 0x69, 0x6e,
  0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
];

export const HOSTILE_VECTORS: readonly HostileVector[] = [
  vector('cpu-loop', 'a synchronous infinite loop in a handler', `ctx.on('GIFT', () => { for (;;) {} });`),
  vector('microtask-loop', 'an async loop of microtasks that never yields to the host', `ctx.on('GIFT', async () => { for (;;) await null; });`),
  vector(
    'timer-chain',
    'timer chains, each run under the CPU budget, keeping the isolate busy all the time',
    // Four chains of 30 ms busy runs: no run goes over its budget, together they take all the CPU the thread gets.
    `const burn = () => { const until = Date.now() + 30; while (Date.now() < until) {} ctx.setTimeout(burn, 0); };
     for (let i = 0; i < 4; i++) ctx.setTimeout(burn, 0);
     ctx.on('GIFT', () => {});`,
  ),
  vector(
    'timer-loop',
    'a timer that re-arms itself, then loops for ever',
    `const trap = () => { ctx.setTimeout(trap, 0); for (;;) {} };
     ctx.setTimeout(trap, 0);
     ctx.on('GIFT', () => {});`,
  ),
  vector(
    'getter-loop',
    'an object for ctx.overlay.send whose getter (or toJSON) loops',
    `let n = 0;
     ctx.on('GIFT', () => {
       n += 1;
       const data: any = { eventId: 'hostile' };
       if (n % 2 === 1) Object.defineProperty(data, 'payload', { enumerable: true, get() { for (;;) {} } });
       else data.toJSON = () => { for (;;) {} };
       return ctx.overlay.send('hostile', data);
     });`,
  ),
  vector(
    'memory-bomb',
    'a handler that allocates until the heap is exhausted',
    `ctx.on('GIFT', () => {
       const hoard: unknown[] = [];
       for (;;) hoard.push(new Array(100000).fill('x'.repeat(64) + hoard.length));
     });`,
  ),
  vector(
    'wasm-loop',
    'an infinite loop inside a WebAssembly module built from bytes',
    `const wasm = typeof WebAssembly === 'undefined' ? undefined : new WebAssembly.Module(new Uint8Array(${JSON.stringify(SPIN_WASM)}));
     ctx.on('GIFT', () => {
       if (!wasm) throw new Error('WebAssembly is not available in the isolate');
       (new WebAssembly.Instance(wasm).exports as any).spin();
     });`,
  ),
  vector(
    'atomics-wait',
    'Atomics.wait on a SharedArrayBuffer nobody notifies',
    `ctx.on('GIFT', () => {
       if (typeof SharedArrayBuffer === 'undefined') throw new Error('SharedArrayBuffer is not available in the isolate');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
     });`,
  ),
  vector(
    'throw-getter',
    'throwing (or rejecting with) an object whose stack, message and toString loop',
    `let n = 0;
     ctx.on('GIFT', () => {
       n += 1;
       const looping = { get stack() { for (;;) {} }, get message() { for (;;) {} }, toString() { for (;;) {} } };
       if (n % 2 === 1) throw looping;
       return Promise.reject(looping);
     });`,
  ),
  vector(
    'overlay-256mb',
    'a 256 MB string sent to the overlay',
    `ctx.on('GIFT', () => ctx.overlay.send('hostile', 'x'.repeat(256 * 1024 * 1024)).catch(() => {}));`,
    { mayCrashTheProcess: true },
  ),
  vector('overlay-10mb', 'a 10 MB overlay payload', `ctx.on('GIFT', () => ctx.overlay.send('hostile', { blob: 'x'.repeat(10 * 1024 * 1024) }).catch(() => {}));`),
  vector(
    'overlay-flood',
    'thousands of overlay messages for one event',
    `ctx.on('GIFT', (event: any) => {
       for (let i = 0; i < 5000; i++) void ctx.overlay.send('hostile', { i, eventId: event.eventId }).catch(() => {});
     });`,
  ),
  // The host refuses input nested past 64 levels at its API (threat model D-2); a plugin's output is
  // input from a third party too. 3,000 levels: deep enough, and within what the isolate's own
  // JSON.stringify can write (past ~4,000 it throws inside the isolate and nothing reaches the host).
  vector(
    'overlay-deep',
    'an overlay message nested 3,000 levels deep (6 KB, under the size limit)',
    `const deep = '['.repeat(3000) + ']'.repeat(3000);
     ctx.on('GIFT', () => ctx.overlay.send('hostile', JSON.parse(deep)).catch(() => {}));`,
  ),
  vector(
    'kv-flood',
    'thousands of kv keys per event, megabytes of values, and one value of 1 MB',
    `let round = 0;
     ctx.on('GIFT', () => {
       round += 1;
       void ctx.kv.set('huge-' + round, 'x'.repeat(1024 * 1024)).catch(() => {});
       for (let i = 0; i < 2000; i++) void ctx.kv.set('r' + round + '-k' + i, 'x'.repeat(2000)).catch(() => {});
     });`,
    { kv: true },
  ),
  {
    id: 'hostile-http-hang',
    title: 'a fetch that hangs until its deadline (a local server that never answers)',
    expect: 'falls-behind',
    plugin: (hangOrigin) => ({
      id: 'hostile-http-hang',
      permissions: { events: ['GIFT'], http: [`${hangOrigin}/**`] },
      overlayChannels: ['hostile'],
      source: definePlugin(`ctx.on('GIFT', async () => { await ctx.http.fetch('${hangOrigin}/hang'); });`),
    }),
  },
  {
    id: 'hostile-http-flood',
    title: 'hundreds of requests per event, left hanging (a local server that never answers)',
    expect: 'faulted',
    plugin: (hangOrigin) => ({
      id: 'hostile-http-flood',
      permissions: { events: ['GIFT'], http: [`${hangOrigin}/**`] },
      overlayChannels: ['hostile'],
      source: definePlugin(`ctx.on('GIFT', () => { for (let i = 0; i < 400; i++) void ctx.http.fetch('${hangOrigin}/flood/' + i).catch(() => {}); });`),
    }),
  },
  vector(
    'log-flood',
    'tens of thousands of log lines of 1 KB per event',
    `const line = 'x'.repeat(1000);
     ctx.on('GIFT', () => { for (let i = 0; i < 20000; i++) { try { ctx.log.info('spam ' + i + ' ' + line, { i }); } catch {} } });`,
  ),
  vector(
    'timer-flood',
    'thousands of intervals of 0 ms asked for per event',
    `ctx.on('GIFT', () => { for (let i = 0; i < 10000; i++) { try { ctx.setInterval(() => {}, 0); } catch {} } });`,
  ),
  vector(
    'stack-overflow',
    'recursion to the stack limit in every handler',
    `ctx.on('GIFT', () => { const dive = (n: number): number => dive(n + 1) + 1; return dive(0); });`,
  ),
  vector(
    'kv-nul',
    'a kv value and a kv key containing \\u0000',
    `ctx.on('GIFT', async () => {
       await ctx.kv.set('plain', 'a value');
       await ctx.kv.set('value-with-nul', 'a\\u0000b');
       await ctx.kv.set('key-with-nul-\\u0000', 'a value');
     });`,
    { kv: true },
  ),
];

/** An HTTP server on 127.0.0.1 that takes every request and never answers it. */
export interface HangServer {
  origin: string;
  /** Requests it has received so far. */
  readonly received: number;
  /** Cuts the connections it holds: requests a switched-off plugin left hanging end now, not at their deadline. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startHangServer(): Promise<HangServer> {
  const sockets = new Set<Socket>();
  let received = 0;
  const server: Server = createServer(() => {
    received += 1;
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get received() {
      return received;
    },
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
