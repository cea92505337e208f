import { defineConfig } from 'vitest/config';
import { HANG_MS, TEST_TIMEOUT_MS } from './host/test/support/patience.ts';

// Timeouts only catch hangs (see patience.ts): the slowest test takes well under a minute on an idle machine.
const hangsOnly = { testTimeout: TEST_TIMEOUT_MS, hookTimeout: TEST_TIMEOUT_MS, expect: { poll: { timeout: HANG_MS } } };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'host',
          include: ['sdk/**/*.test.ts', 'host/**/*.test.ts', 'plugins/*/test/**/*.test.ts'],
          pool: 'forks',
          // isolated-vm needs this on Node 20+ (plugin sandboxes run in the test processes).
          execArgv: ['--no-node-snapshot'],
          globalSetup: ['host/test/support/pglite-template.ts'],
          ...hangsOnly,
        },
      },
      {
        // The built pages in chromium against `ttlp start` (Debian's chromium, or CHROMIUM_PATH).
        test: {
          name: 'browser',
          include: ['overlays/test/**/*.test.ts'],
          environment: 'node',
          // The pages are built once for every browser test file.
          globalSetup: ['overlays/test/build-pages.ts'],
          ...hangsOnly,
        },
      },
      // The pages' logic and the overlay connection, with Svelte's client runtime in Node.
      'overlays/vitest.config.ts',
    ],
  },
});
