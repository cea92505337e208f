/**
 * The built settings page and overlays (`overlays/dist`, made by `npm run build`): `/` is the
 * settings page, `/overlay/<widget>` every widget's page, `/assets/*` their files. Without a
 * build, those URLs say how to make one.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isOverlayWidget } from '../overlay-hub/protocol.ts';
import { OverlayUnknownWidget } from './errors.ts';

/**
 * The pages load only their own scripts; styles may be inline (Svelte's transitions add them);
 * pictures (avatars, gift images) and alert sounds come from TikTok's CDN or wherever a streamer
 * points a widget; no other site may frame the pages.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' https: data:",
  "media-src 'self' https: http:",
  "connect-src 'self'",
  "frame-src 'self'",
  "frame-ancestors 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>ttlp</title>
<p>The settings page and overlays are not built. Run <code>npm run build</code>, then reload.</p>`;

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
  app.get<{ Params: { widget: string } }>('/overlay/:widget', (request, reply) => {
    if (!isOverlayWidget(request.params.widget)) throw new OverlayUnknownWidget(request.params.widget);
    return page(reply, 'overlay.html');
  });
}
