import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Dev server only: `/overlay/<widget>` is served the overlay page, as the host does. */
const overlayRoutes: Plugin = {
  name: 'ttlp-overlay-routes',
  configureServer(server) {
    server.middlewares.use((request, _response, next) => {
      if (request.url !== undefined && /^\/overlay\/[a-z]+\/?(?:\?|$)/.test(request.url)) {
        request.url = `/overlay.html${request.url.slice(request.url.indexOf('?') >= 0 ? request.url.indexOf('?') : request.url.length)}`;
      }
      next();
    });
  },
};

// `vite` (dev) forwards the API and the WebSockets to a running host.
const hostUrl = process.env.TTLP_HOST_URL ?? 'http://127.0.0.1:8787';

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [svelte(), overlayRoutes],
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // OBS 27+ browser sources run Chromium 95 or later.
    target: ['chrome95', 'edge95', 'firefox102', 'safari15'],
    rolldownOptions: {
      input: {
        index: here('index.html'),
        overlay: here('overlay.html'),
      },
      output: {
        // The Svelte runtime both pages share, under its own name.
        codeSplitting: { groups: [{ name: 'svelte', test: /node_modules[\\/]svelte[\\/]/ }] },
      },
    },
  },
  server: {
    proxy: {
      '/api': hostUrl,
      '/ws': { target: hostUrl, ws: true },
    },
  },
});
