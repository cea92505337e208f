import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['sdk/**/*.test.ts', 'host/**/*.test.ts', 'plugins/*/test/**/*.test.ts', 'overlays/test/**/*.test.ts'],
    pool: 'forks',
    // isolated-vm needs this on Node 20+ (plugin sandboxes run in the test processes).
    execArgv: ['--no-node-snapshot'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
