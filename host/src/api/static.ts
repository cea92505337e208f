/**
 * The built settings page (`overlays/dist`, made by `npm run build`): `/` is the page, `/assets/*`
 * its files. Without a build, those URLs say how to make one. (Widget pages are served by
 * plugin-widgets/routes.ts.)
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The page loads only its own scripts; styles may be inline (Svelte's transitions add them);
 * pictures (avatars, gift images) come from TikTok's CDN; it frames the widgets' previews; no
 * other site may frame it.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' https: data:",
    "connect-src 'self'",
  "frame-src 'self'",
  "frame-ancestors 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>ttlp</title>
<p>The settings page is not built. Run <code>npm run build</code>, then reload.</p>`;

export async function staticRoutes(app: FastifyInstance): Promise<void> {
  const dir = app.services.overlaysDir;
  const built = dir !== undefined && existsSync(path.join(dir, 'index.html'));
  const page = (reply: FastifyReply, file: string) => {
    if (!built) return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    // Pages always fresh (they name the hashed assets of the current build); assets are cached by @fastify/static.
    return reply.header('cache-control', 'no-cache').header('content-security-policy', CONTENT_SECURITY_POLICY).sendFile(file, dir!, { cacheControl: false });
  };
  if (built) await app.register(fastifyStatic, { root: path.join(dir, 'assets'), prefix: '/assets/', index: false, maxAge: '1y', immutable: true });
  else app.get('/assets/*', (_request, reply) => reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT));

  app.get('/', (_request, reply) => page(reply, 'index.html'));
  // Browsers ask for it on every page; there is none.
  app.get('/favicon.ico', (_request, reply) => reply.status(204).send());
}
