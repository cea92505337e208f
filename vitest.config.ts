import { defineConfig } from 'vitest/config';

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
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The built pages in chromium against `ttlp start` (Debian's chromium, or CHROMIUM_PATH).
        test: {
          name: 'browser',
          include: ['overlays/test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      // The pages' logic and the overlay connection, with Svelte's client runtime in Node.
      'overlays/vitest.config.ts',
    ],
  },
});
