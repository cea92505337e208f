/**
 * A plugin that fails in every way a run can, each at a known line of its `src/index.ts`, for the
 * tests of where faults point: CHAT throws, GIFT rejects after an await, LIKE starts a timer that
 * throws, FOLLOW logs the stack of an error it caught, and setup throws when `failSetup` is set.
 */
import { writePlugin } from './plugin-dir.ts';

export const FAULTY_ENTRY = 'src/index.ts';

const SOURCE = `import { definePlugin } from '@ttlp/sdk';

export default definePlugin<{ failSetup: boolean }>({
  setup(ctx) {
    if (ctx.config.failSetup) throw new Error('setup boom');
    ctx.on('CHAT', () => {
      throw new Error('sync boom');
    });
    ctx.on('GIFT', async () => {
      await ctx.kv.get('anything');
      throw new Error('async boom');
    });
    ctx.on('LIKE', () => {
      ctx.setTimeout(() => {
        throw new Error('timer boom');
      }, 10);
    });
    ctx.on('FOLLOW', () => {
      try {
        throw new Error('caught boom');
      } catch (error) {
        ctx.log.error('caught', { stack: (error as Error).stack ?? '' });
      }
    });
  },
});
`;

/** The 1-based line of `src/index.ts` holding `text`. */
export function faultyLine(text: string): number {
  const index = SOURCE.split('\n').findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`no line with ${text} in the faulty plugin`);
  return index + 1;
}

/** Writes the plugin's folder; its entry is `FAULTY_ENTRY`. */
export function writeFaultyPlugin(): string {
  const config = { type: 'object', properties: { failSetup: { type: 'boolean', default: false } }, additionalProperties: false };
  return writePlugin('', { entry: FAULTY_ENTRY, config }, { [FAULTY_ENTRY]: SOURCE });
}
