/**
 * Token management: API tokens (created, listed, revoked) and the overlay token of each widget of
 * the host and the running plugins, whose URL the settings page shows and can regenerate (the old
 * URL stops working).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import {
  ApiTokenListSchema,
  CreatedApiTokenSchema,
  NoContentSchema,
  OverlayLinkListSchema,
  OverlayLinkSchema,
  type ApiTokenList,
  type CreatedApiToken,
  type OverlayLink,
  type OverlayLinkList,
  WidgetOptionsCheckSchema,
  WidgetOptionsReadSchema,
  type WidgetOptionsCheck,
  type WidgetOptionsRead,
} from '@ttlp/sdk/host-contract';
import { PLUGIN_ID_PATTERN, WIDGET_ID_PATTERN } from '@ttlp/sdk/manifest';
import { pluginWidgetName, type CatalogWidget, type WidgetCatalog } from '../../plugin-widgets/catalog.ts';
import { readWidgetOptions } from '../../plugin-widgets/options.ts';
import { widgetPaths } from '../../plugin-widgets/page.ts';
import { ERROR_RESPONSES, InvalidRequest, OverlayUnknownWidget, TokenNotFound } from '../errors.ts';

const TokenParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const PluginWidgetParams = Type.Object({ pluginId: Type.String({ pattern: PLUGIN_ID_PATTERN }), widgetId: Type.String({ pattern: WIDGET_ID_PATTERN }) });
const CreateBody = Type.Object(
  { kind: Type.Literal('api'), name: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);

/** Where the browser reached this host: overlay URLs (and a widget page's policy) are given for the same origin. */
export function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export async function tokenRoutes(app: FastifyInstance, { widgets }: { widgets: WidgetCatalog }): Promise<void> {
  const { tokens } = app.services;

  const overlayView = async (request: FastifyRequest, widget: CatalogWidget, entry: { tokenId: string; token: string }): Promise<OverlayLink> => {
    const built = await widgets.build(widget);
    return {
      widget: widget.name,
      tokenId: entry.tokenId,
      url: `${originOf(request)}${widgetPaths(widget).page}?token=${encodeURIComponent(entry.token)}`,
      pluginId: widget.pluginId,
      widgetId: widget.widget.id,
      displayName: widget.widget.displayName,
      size: widget.size,
      ...(widget.optionsSchema ? { options: widget.optionsSchema } : {}),
      buildError: built.ok ? null : built.error,
    };
  };

  app.get('/tokens', { schema: { response: { 200: ApiTokenListSchema, ...ERROR_RESPONSES } } }, async (): Promise<ApiTokenList> => ({
    tokens: (await tokens.list()).map((row) => ({
      tokenId: row.tokenId,
      name: row.name,
      kind: row.kind,
      widget: typeof row.scope.widget === 'string' ? row.scope.widget : null,
      createdAt: row.createdAt.toISOString(),
      lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    })),
  }));

  app.post<{ Body: Static<typeof CreateBody> }>('/tokens', { schema: { body: CreateBody, response: { 201: CreatedApiTokenSchema, ...ERROR_RESPONSES } } }, async (request, reply) => {
    const { row, token } = await tokens.createApiToken(request.body.name);
    return reply.status(201).send({ tokenId: row.tokenId, name: row.name, kind: row.kind, token, createdAt: row.createdAt.toISOString() } satisfies CreatedApiToken);
  });

  app.delete<{ Params: Static<typeof TokenParams> }>('/tokens/:id', { schema: { params: TokenParams, response: { 204: NoContentSchema, ...ERROR_RESPONSES } } }, async (request, reply) => {
    const row = await tokens.get(request.params.id);
    if (!row) throw new TokenNotFound(request.params.id);
    if (row.kind === 'admin') throw new InvalidRequest('the admin token is replaced with "ttlp admin-token --reset", not deleted');
    await tokens.revoke(row.tokenId);
    return reply.status(204).send();
  });

  app.get('/overlays', { schema: { response: { 200: OverlayLinkListSchema, ...ERROR_RESPONSES } } }, async (request): Promise<OverlayLinkList> => ({
    overlays: await Promise.all(widgets.list().map(async (widget) => overlayView(request, widget, await tokens.overlayToken(widget.name)))),
  }));

  const knownWidget = (params: Static<typeof PluginWidgetParams>) => {
    const widget = widgets.find(params.pluginId, params.widgetId);
    if (!widget) throw new OverlayUnknownWidget(pluginWidgetName(params.pluginId, params.widgetId));
    return widget;
  };

  // What a URL the streamer has (in OBS, say) gives the widget, and which of its options it ignores.
  app.post<{ Params: Static<typeof PluginWidgetParams>; Body: WidgetOptionsCheck }>(
    '/overlays/:pluginId/:widgetId/options',
    { schema: { params: PluginWidgetParams, body: WidgetOptionsCheckSchema, response: { 200: WidgetOptionsReadSchema, ...ERROR_RESPONSES } } },
    async (request): Promise<WidgetOptionsRead> => {
      // What follows a `#` never reaches the page's server, so it is no option either.
      const text = request.body.query.split('#')[0]!;
      return readWidgetOptions(knownWidget(request.params), new URLSearchParams(text.includes('?') ? text.slice(text.indexOf('?') + 1) : text));
    },
  );

  app.post<{ Params: Static<typeof PluginWidgetParams> }>(
    '/overlays/:pluginId/:widgetId/regenerate',
    { schema: { params: PluginWidgetParams, response: { 200: OverlayLinkSchema, ...ERROR_RESPONSES } } },
    async (request) => {
      const widget = knownWidget(request.params);
      return overlayView(request, widget, await tokens.regenerateOverlayToken(widget.name));
    },
  );
}
