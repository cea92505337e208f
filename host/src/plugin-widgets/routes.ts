/**
 * The pages of the plugins' widgets: `/overlay/<pluginId>/<widgetId>` (the page, with its options
 * read from the URL) and `/overlay/<pluginId>/<widgetId>/widget.js` (its build). Their socket is
 * `/ws/overlay/<pluginId>/<widgetId>` (overlay-hub/routes.ts). A widget of a plugin that is not
 * running is unknown (404); one that does not build answers 503.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import Type, { type Static } from 'typebox';
import type { WidgetPageConfig } from '@ttlp/sdk/host-contract';
import { PLUGIN_ID_PATTERN, WIDGET_ID_PATTERN } from '@ttlp/sdk/manifest';
import { OverlayUnknownWidget } from '../api/errors.ts';
import { originOf } from '../api/routes/tokens.ts';
import { pluginWidgetName, type CatalogWidget, type WidgetCatalog } from './catalog.ts';
import { readWidgetOptions } from './options.ts';
import { brokenWidgetPage, widgetPage, widgetPaths, widgetPolicy } from './page.ts';

const WidgetParams = Type.Object({ pluginId: Type.String({ pattern: PLUGIN_ID_PATTERN }), widgetId: Type.String({ pattern: WIDGET_ID_PATTERN }) });
type WidgetParams = Static<typeof WidgetParams>;

export async function pluginWidgetRoutes(app: FastifyInstance, { catalog }: { catalog: WidgetCatalog }): Promise<void> {
  const widgetOf = (params: WidgetParams): CatalogWidget => {
    const widget = catalog.find(params.pluginId, params.widgetId);
    if (!widget) throw new OverlayUnknownWidget(`${pluginWidgetName(params.pluginId, params.widgetId)} (no running plugin declares it)`);
    return widget;
  };
  const html = (reply: FastifyReply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache');

  app.get<{ Params: WidgetParams }>('/overlay/:pluginId/:widgetId', { schema: { params: WidgetParams } }, async (request, reply) => {
    const widget = widgetOf(request.params);
    const query = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1 || request.url.length));
    const debug = query.get('debug') === '1';
    const built = await catalog.build(widget);
    reply.header('content-security-policy', widgetPolicy(widget, originOf(request)));
    if (!built.ok) return html(reply.code(503)).send(brokenWidgetPage(widget, built.error, debug));
    const { options, ignored } = readWidgetOptions(widget.widget, query);
    const config: WidgetPageConfig = {
      pluginId: widget.pluginId,
      widgetId: widget.widget.id,
      socket: `${widgetPaths(widget).socket}?token=${encodeURIComponent(query.get('token') ?? '')}`,
      options,
      ignored,
      debug,
      size: widget.size,
    };
    return html(reply).send(widgetPage(widget, config));
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
