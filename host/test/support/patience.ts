/**
 * The tests' bounds on waiting. They only catch hangs: a busy 2-core machine runs the suite
 * several times slower than an idle one, so no test waits on a budget for speed.
 * TTLP_TEST_PATIENCE multiplies both bounds on a machine slower still.
 */
const patience = Number(process.env.TTLP_TEST_PATIENCE ?? 1);
if (!(patience > 0)) throw new Error(`TTLP_TEST_PATIENCE must be a positive number, not ${process.env.TTLP_TEST_PATIENCE}`);

/** How long a test waits for one thing (a banner, a frame, a row) before failing with what it saw. */
export const HANG_MS = 2 * 60_000 * patience;

/** vitest's test and hook timeout: above HANG_MS, so a wait that hangs fails with its own message first. */
export const TEST_TIMEOUT_MS = 5 * 60_000 * patience;

/** Polls `condition` until it holds; only a hang (HANG_MS) fails it, naming `what` it waited for. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + HANG_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`waited ${HANG_MS} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
