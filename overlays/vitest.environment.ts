import type { Environment } from 'vitest/environments';

/**
 * Node, but with modules transformed as for the browser: `.svelte.ts` files compile to Svelte's
 * client runtime, so runes, effects and createSubscriber work as on the page.
 */
export default {
  name: 'svelte-client',
  viteEnvironment: 'client',
  setup() {
    return { teardown() {} };
  },
} satisfies Environment;
