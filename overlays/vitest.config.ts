import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { HANG_MS, TEST_TIMEOUT_MS } from '../host/test/support/patience.ts';

// The settings page's logic (schema forms, queries) and the widgets' (the host's and the
// first-party plugins'): Svelte's client runtime in Node, no browser. The browser tests (test/) run from
// the repository's root configuration.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // The repository: the widgets' code sits in the plugins' folders and in the host's.
  root: here('..'),
  plugins: [svelte({ configFile: here('svelte.config.js') })],
  resolve: { conditions: ['browser'] },
  test: {
    name: 'overlays',
    root: here('..'),
    include: ['overlays/src/**/*.test.ts', 'plugins/*/widget/**/*.test.ts', 'host/widgets/**/*.test.ts'],
    environment: here('vitest.environment.ts'),
    // Only hangs: see patience.ts.
    testTimeout: TEST_TIMEOUT_MS,
    hookTimeout: TEST_TIMEOUT_MS,
    expect: { poll: { timeout: HANG_MS } },
  },
});
