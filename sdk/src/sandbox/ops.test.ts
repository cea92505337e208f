import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from './budgets.ts';
import { PLUGIN_MODULE_GLOBAL } from './bundle.ts';
import { createGeneration, disposeGeneration } from './isolate.ts';
import { callOp, requestOp, SANDBOX_OPS } from './ops.ts';

/** A plugin that uses everything its context offers, once (and sends a call too large to cross). */
const EVERY_USE = `
  globalThis.${PLUGIN_MODULE_GLOBAL} = { default: { setup(ctx) {
    ctx.on('CHAT', () => {});
    ctx.overlay.send('main', 1);
    ctx.overlay.setState('main', 2);
    ctx.overlay.send('main', 'x'.repeat(${DEFAULT_LIMITS.callMaxChars})).catch(() => {});
    ctx.log.info('hello');
    ctx.clearTimeout(ctx.setTimeout(() => {}, 10));
    ctx.kv.get('k');
    ctx.kv.set('k', 1);
    ctx.kv.delete('k');
    ctx.http.fetch('https://example.com/');
    return Promise.resolve();
  } } };
`;

describe('the operations table', () => {
  it('is what the prelude sends and what the host serves, each op on the channel that answers it', async () => {
    const sent: Array<{ op: string; answer: 'call' | 'request' }> = [];
    const generation = await createGeneration(1, EVERY_USE, DEFAULT_LIMITS, {
      // Every call succeeds; 1 is the id of the timer the plugin starts.
      call: (op) => {
        sent.push({ op: String(op), answer: 'call' });
        return JSON.stringify({ result: 1 });
      },
      request: (_id, op) => void sent.push({ op: String(op), answer: 'request' }),
      failed: () => undefined,
    });
    try {
      expect(generation.entries.setup.applySync(undefined, [1, '{}', 'plugin'])).toBe(JSON.stringify({ done: false }));
    } finally {
      disposeGeneration(generation);
    }
    const table = Object.entries(SANDBOX_OPS).map(([op, { answer }]) => ({ op, answer }));
    const distinct = [...new Map(sent.map((entry) => [entry.op, entry])).values()];
    const byName = (a: { op: string }, b: { op: string }) => a.op.localeCompare(b.op);
    expect(distinct.sort(byName)).toEqual(table.sort(byName));
    for (const { op, answer } of table) {
      expect(callOp(op) !== undefined).toBe(answer === 'call');
      expect(requestOp(op) !== undefined).toBe(answer === 'request');
    }
  });

  it('serves no name outside the table, not even those every object has', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'kv.get', undefined, 42]) {
      expect(callOp(name)).toBeUndefined();
      expect(requestOp(name)).toBeUndefined();
    }
  });
});
