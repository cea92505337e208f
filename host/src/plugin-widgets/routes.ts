/**
 * The pages of the widgets of the host and the plugins: `/overlay/<pluginId>/<widgetId>` (the
 * page, with its options read from the URL) and `/overlay/<pluginId>/<widgetId>/widget.js` (its
 * build). Their socket is `/ws/overlay/<pluginId>/<widgetId>` (overlay-hub/routes.ts).
 * `/overlay/<name>`, the URL widgets had before plugins declared them, redirects to the widget the
 * name means (`alerts` → `alerts/alerts`). The page of a widget no running plugin declares is a
 * blank one that asks again every few seconds (a 404), so that an OBS source shows the widget as
 * soon as its plugin is enabled; one that does not build answers 503.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import type { WidgetPageConfig } from '@ttlp/sdk/host-contract';
import { PLUGIN_ID_PATTERN, WIDGET_ID_PATTERN } from '@ttlp/sdk/manifest';
import { OverlayUnknownWidget } from '../api/errors.ts';
import { originOf } from '../api/routes/tokens.ts';
import { pluginWidgetName, type CatalogWidget, type WidgetCatalog } from './catalog.ts';
import { readWidgetOptions } from './options.ts';
import { brokenWidgetPage, WAITING_PAGE_POLICY, waitingPage, widgetPage, widgetPaths, widgetPolicy } from './page.ts';

const WidgetParams = Type.Object({ pluginId: Type.String({ pattern: PLUGIN_ID_PATTERN }), widgetId: Type.String({ pattern: WIDGET_ID_PATTERN }) });
type WidgetParams = Static<typeof WidgetParams>;
const ShortNameParams = Type.Object({ name: Type.String({ pattern: WIDGET_ID_PATTERN }) });

export async function pluginWidgetRoutes(app: FastifyInstance, { catalog }: { catalog: WidgetCatalog }): Promise<void> {
  const widgetOf = (params: WidgetParams): CatalogWidget => {
    const widget = catalog.find(params.pluginId, params.widgetId);
    if (!widget) throw new OverlayUnknownWidget(`${pluginWidgetName(params.pluginId, params.widgetId)} (no running plugin declares it)`);
    return widget;
  };
  const html = (reply: FastifyReply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache');
  const queryOf = (request: FastifyRequest) => request.url.slice(request.url.indexOf('?') + 1 || request.url.length);
  const waiting = (reply: FastifyReply, name: string, debug: boolean) =>
    html(reply.code(404)).header('content-security-policy', WAITING_PAGE_POLICY).send(waitingPage(name, debug));

  app.get<{ Params: WidgetParams }>('/overlay/:pluginId/:widgetId', { schema: { params: WidgetParams } }, async (request, reply) => {
    const query = new URLSearchParams(queryOf(request));
    const debug = query.get('debug') === '1';
    const widget = catalog.find(request.params.pluginId, request.params.widgetId);
    if (!widget) return waiting(reply, pluginWidgetName(request.params.pluginId, request.params.widgetId), debug);
    const built = await catalog.build(widget);
    reply.header('content-security-policy', widgetPolicy(widget, originOf(request)));
    if (!built.ok) return html(reply.code(503)).send(brokenWidgetPage(widget, built.error, debug));
    const { options, ignored } = readWidgetOptions(widget, query);
    const config: WidgetPageConfig = {
      pluginId: widget.pluginId,
      widgetId: widget.widget.id,
      socket: `${widgetPaths(widget).socket}?token=${encodeURIComponent(query.get('token') ?? '')}`,
      options,
      ignored,
      look: widget.widget.look !== undefined,
      debug,
      size: widget.size,
    };
    return html(reply).send(widgetPage(widget, config));
  });

  app.get<{ Params: { name: string } }>('/overlay/:name', { schema: { params: ShortNameParams } }, async (request, reply) => {
    const widget = catalog.findByShortName(request.params.name);
    if (!widget) return waiting(reply, request.params.name, new URLSearchParams(queryOf(request)).get('debug') === '1');
    const query = queryOf(request);
    return reply.redirect(`${widgetPaths(widget).page}${query ? `?${query}` : ''}`, 302);
  });

  app.get<{ Params: WidgetParams }>('/overlay/:pluginId/:widgetId/widget.js', { schema: { params: WidgetParams } }, async (request, reply) => {
    const built = await catalog.build(widgetOf(request.params));
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      // Its page runs in an opaque origin (sandboxed): for that page this script is cross-origin.
      .header('cross-origin-resource-policy', 'cross-origin');
    if (!built.ok) return reply.code(503).send(`console.error(${JSON.stringify(`the widget does not build:\n${built.error}`)});\n`);
    return reply.send(built.code);
  });
}
