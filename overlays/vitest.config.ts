import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';
import { HANG_MS, TEST_TIMEOUT_MS } from '../host/test/support/patience.ts';

// The pages' logic (protocol, queue, options, schema forms) and the overlay connection against a
// stand-in hub: Svelte's client runtime in Node, no browser. The browser tests (test/) run from
// the repository's root configuration.
export default defineConfig({
  plugins: [svelte()],
  resolve: { conditions: ['browser'] },
  test: {
    name: 'overlays',
    include: ['src/**/*.test.ts'],
    environment: './vitest.environment.ts',
    // Only hangs: see patience.ts.
    testTimeout: TEST_TIMEOUT_MS,
    hookTimeout: TEST_TIMEOUT_MS,
    expect: { poll: { timeout: HANG_MS } },
  },
});
