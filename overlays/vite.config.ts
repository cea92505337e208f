import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// `vite` (dev) forwards the API, the widget pages and the WebSockets to a running host.
const hostUrl = process.env.TTLP_HOST_URL ?? 'http://127.0.0.1:8787';

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [svelte()],
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // OBS 27+ browser sources run Chromium 95 or later.
    target: ['chrome95', 'edge95', 'firefox102', 'safari15'],
    rolldownOptions: {
      input: { index: here('index.html') },
    },
  },
  server: {
    proxy: {
      '/api': hostUrl,
      '/overlay': hostUrl,
      '/ws': { target: hostUrl, ws: true },
    },
  },
});
