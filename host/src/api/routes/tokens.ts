/**
 * Token management: API tokens (created, listed, revoked) and the overlay token of each widget,
 * whose URL the settings page shows and can regenerate (the old URL stops working).
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
} from '@ttlp/sdk/host-contract';
import { PLUGIN_ID_PATTERN, WIDGET_ID_PATTERN } from '@ttlp/sdk/manifest';
import { isOverlayWidget, OVERLAY_WIDGETS, type OverlayWidget } from '../../overlay-hub/protocol.ts';
import { pluginWidgetName, type CatalogWidget, type WidgetCatalog } from '../../plugin-widgets/catalog.ts';
import { widgetPaths } from '../../plugin-widgets/page.ts';
import { ERROR_RESPONSES, InvalidRequest, OverlayUnknownWidget, TokenNotFound } from '../errors.ts';

const TokenParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const WidgetParams = Type.Object({ widget: Type.String({ maxLength: 64 }) });
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

  const overlayView = (request: FastifyRequest, widget: OverlayWidget, entry: { tokenId: string; token: string }): OverlayLink => ({
    widget,
    tokenId: entry.tokenId,
    url: `${originOf(request)}/overlay/${widget}?token=${encodeURIComponent(entry.token)}`,
  });
  const pluginWidgetView = async (request: FastifyRequest, widget: CatalogWidget, entry: { tokenId: string; token: string }): Promise<OverlayLink> => {
    const built = await widgets.build(widget);
    return {
      widget: widget.name,
      tokenId: entry.tokenId,
      url: `${originOf(request)}${widgetPaths(widget).page}?token=${encodeURIComponent(entry.token)}`,
      plugin: {
        pluginId: widget.pluginId,
        widgetId: widget.widget.id,
        displayName: widget.widget.displayName,
        size: widget.size,
        ...(widget.widget.options ? { options: widget.widget.options as Record<string, unknown> } : {}),
        buildError: built.ok ? null : built.error,
      },
    };
  };
  const knownWidget = (widget: string) => {
    if (!isOverlayWidget(widget)) throw new OverlayUnknownWidget(widget);
    return widget;
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
    overlays: [
      ...(await Promise.all(OVERLAY_WIDGETS.map(async (widget) => overlayView(request, widget, await tokens.overlayToken(widget))))),
      ...(await Promise.all(widgets.list().map(async (widget) => pluginWidgetView(request, widget, await tokens.overlayToken(widget.name))))),
    ],
  }));

  app.post<{ Params: Static<typeof PluginWidgetParams> }>(
    '/overlays/:pluginId/:widgetId/regenerate',
    { schema: { params: PluginWidgetParams, response: { 200: OverlayLinkSchema, ...ERROR_RESPONSES } } },
    async (request) => {
      const widget = widgets.find(request.params.pluginId, request.params.widgetId);
      if (!widget) throw new OverlayUnknownWidget(pluginWidgetName(request.params.pluginId, request.params.widgetId));
      return pluginWidgetView(request, widget, await tokens.regenerateOverlayToken(widget.name));
    },
  );

  app.post<{ Params: Static<typeof WidgetParams> }>('/overlays/:widget/regenerate', { schema: { params: WidgetParams, response: { 200: OverlayLinkSchema, ...ERROR_RESPONSES } } }, async (request) => {
    const widget = knownWidget(request.params.widget);
    return overlayView(request, widget, await tokens.regenerateOverlayToken(widget));
  });
}
