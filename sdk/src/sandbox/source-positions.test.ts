import { describe, expect, it } from 'vitest';
import { createTestHost, makeEvent } from '../testing/index.ts';
import { faultyLine, writeFaultyPlugin } from '../../test/support/faulty-plugin.ts';
import { writePlugin } from '../../test/support/plugin-dir.ts';
import { BUNDLE_FILENAME, faultPlace, PRELUDE_FILENAME, SourcePositions } from './source-positions.ts';

const like = makeEvent('LIKE', { likeCount: 1, totalLikeCount: 1 });
const gift = makeEvent('GIFT', { giftId: 5655, giftName: 'Rose', giftCount: 1, coins: 1 });
const follow = makeEvent('FOLLOW', { displayType: 'pm_mt_msg_viewer_follow' });

/** What a fault's text must say: the line, in the plugin's file, and nothing of the bundle or the prelude. */
function expectPointsAt(text: string | undefined, line: number): void {
  expect(text).toContain(`src/index.ts:${line}:`);
  expect(text).not.toContain(BUNDLE_FILENAME);
  expect(text).not.toContain(PRELUDE_FILENAME);
}

describe("a plugin's faults, through the test host", () => {
  it("point at the line of the plugin's source that threw: in a handler, after an await, in a timer", async () => {
    const host = await createTestHost({ plugin: writeFaultyPlugin(), limits: { maxFaults: 100 } });
    await host.send(makeEvent('CHAT', { message: 'hi' }), gift, like);
    await host.timersRun();
    const [sync, rejected, timer] = host.faults;
    expect(sync!.message).toMatch(/^Error: sync boom\n/);
    expectPointsAt(sync!.message, faultyLine("'sync boom'"));
    expectPointsAt(rejected!.message, faultyLine("'async boom'"));
    expect(timer!.run).toEqual({ kind: 'timer' });
    expectPointsAt(timer!.message, faultyLine("'timer boom'"));
    await host.close();
  });

  it('point at the line of a failing setup, which disables the plugin with that reason', async () => {
    const host = await createTestHost({ plugin: writeFaultyPlugin(), config: { failSetup: true }, limits: { maxFaults: 1 } });
    expectPointsAt(host.faults[0]!.message, faultyLine("'setup boom'"));
    expectPointsAt(host.disabled, faultyLine("'setup boom'"));
    await host.close();
  });

  it('point at the line that threw while the bundle was loaded', async () => {
    const dir = writePlugin(`import { definePlugin } from '@ttlp/sdk';\n\nthrow new Error('load boom');\nexport default definePlugin({ setup() {} });\n`);
    const host = await createTestHost({ plugin: dir });
    expect(host.faults[0]!.message).toMatch(/^loading the plugin failed: Error: load boom\n\s+at index\.ts:3:\d+/);
    await host.close();
  });

  it("name the plugin's files in a log line that quotes a stack", async () => {
    const host = await createTestHost({ plugin: writeFaultyPlugin() });
    await host.send(follow);
    const stack = host.logs[0]!.fields!.stack as string;
    expect(stack).toMatch(/^Error: caught boom\n/);
    expectPointsAt(stack, faultyLine("'caught boom'"));
    await host.close();
  });
});

describe('SourcePositions', () => {
  const map = JSON.stringify({ version: 3, sources: ['src/index.ts'], names: [], mappings: ';;AAAA,IAAI;AACA' });

  it('maps the positions of a mapped line, leaves the others, and drops the prelude frames', () => {
    const text = [
      'Error: boom',
      `    at handler (${BUNDLE_FILENAME}:3:5)`,
      `    at ${BUNDLE_FILENAME}:1:1`,
      `    at settleRun (${PRELUDE_FILENAME}:40:20)`,
      `    at Object.fire (${PRELUDE_FILENAME}:90:12)`,
    ].join('\n');
    expect(new SourcePositions(map).rewrite(text)).toBe(['Error: boom', '    at handler (src/index.ts:1:5)', `    at ${BUNDLE_FILENAME}:1:1`].join('\n'));
  });

  it('keeps the positions without a map, or with one that cannot be read', () => {
    const text = `Error: boom\n    at ${BUNDLE_FILENAME}:3:5`;
    expect(new SourcePositions(undefined).rewrite(text)).toBe(text);
    expect(new SourcePositions('{not json').rewrite(text)).toBe(text);
  });

  it('leaves text without frames as it is', () => {
    expect(new SourcePositions(map).rewrite('more than 50 overlay messages in event e1')).toBe('more than 50 overlay messages in event e1');
  });
});

describe('faultPlace', () => {
  it("answers the first frame in the plugin's own files, else the first in its bundle, never a host file", () => {
    const stack = (...frames: string[]) => ['Error: boom', ...frames.map((frame) => `    at ${frame}`)].join('\n');
    expect(faultPlace(stack('apply (../../sdk/src/logic/index.ts:10:3)', 'handler (src/rules.ts:4:9)', 'src/index.ts:12:1'))).toBe('src/rules.ts:4:9');
    expect(faultPlace(stack('apply (../../sdk/src/logic/index.ts:10:3)'))).toBe('../../sdk/src/logic/index.ts:10:3');
    expect(faultPlace(stack('run (file:///srv/ttlp/host/src/host.ts:3:4)', 'node:internal/worker:1:2', '/srv/ttlp/a.ts:1:1'))).toBeUndefined();
    expect(faultPlace('fell 6000 events behind')).toBeUndefined();
  });
});
