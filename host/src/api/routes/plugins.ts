/**
 * Plugins: the list with their permissions, settings schema and fault state; grant, enable (with
 * the grants the user consented to), disable and configure — applied to the running host at once —
 * and a dry run that shows what a plugin would do with an event, without doing it.
 */
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { EVENT_TYPES, type UnifiedEvent } from '@ttlp/sdk';
import { UnifiedEventSchema } from '@ttlp/sdk/contract';
import { requestedPermissions, validatePluginConfig } from '@ttlp/sdk/manifest';
import { pluginQuotas } from '@ttlp/sdk/sandbox';
import { DryRunSchema, PluginListSchema, PluginViewSchema, type DryRun, type PluginList, type PluginView } from '@ttlp/sdk/host-contract';
import { createTestHost } from '@ttlp/sdk/testing';
import { configurePlugin, disablePlugin, enablePlugin, grantPermissions, PluginAdminError } from '../../plugin-runtime/admin.ts';
import type { DiscoveredPlugin } from '../../plugin-runtime/discovery.ts';
import { ThreadedSandbox } from '../../plugin-runtime/sandbox-thread/threaded-sandbox.ts';
import { getPluginRow, listPluginRows, type PluginRow } from '../../store/plugins.ts';
import { buildTestEvent } from '../synthetic-events.ts';
import { ERROR_RESPONSES, InvalidRequest, PluginConfigInvalid, PluginNotFound, PluginPermissionsMissing, PluginPermissionUnknown, withDetails } from '../errors.ts';

const PluginParams = Type.Object({ id: Type.String({ pattern: '^[a-z][a-z0-9-]{0,63}$' }) });
const Permissions = Type.Array(Type.String({ maxLength: 512 }), { maxItems: 64, default: [] });
const EnableBody = Type.Object({ grant: Permissions }, { additionalProperties: false });
const GrantBody = Type.Object({ grant: Permissions }, { additionalProperties: false });
const ConfigBody = Type.Object({ config: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: false });
/** The answer of the routes that act on one plugin: the plugin as it is now. */
const PluginAnswer = { response: { 200: PluginViewSchema, ...ERROR_RESPONSES } };
const DryRunBody = Type.Object(
  {
    event: Type.Optional(UnifiedEventSchema),
    eventType: Type.Optional(Type.Enum(EVENT_TYPES)),
    payload: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

/**
 * A few words for the settings page: running, running (faulted), failed (its setup failed, so it
 * does not run), enabled (not running), disabled, disabled (faulted).
 */
function stateOf(row: PluginRow | undefined, running: boolean): string {
  if (!row || !row.enabled) return row?.lastError && row.status === 'disabled' && row.faultCount > 0 ? 'disabled (faulted)' : 'disabled';
  if (!running) return row.status === 'failed' ? 'failed' : 'enabled (not running)';
  return row.status === 'faulted' || row.status === 'failed' ? 'running (faulted)' : 'running';
}

export async function pluginRoutes(app: FastifyInstance): Promise<void> {
  const { store, plugins: host } = app.services;
  // Every plugin runs within the same limits.
  const quotas = pluginQuotas(app.services.pluginLimits);
  const available = (): DiscoveredPlugin[] => host?.available ?? [];

  const find = (id: string): DiscoveredPlugin => {
    const plugin = available().find((candidate) => candidate.manifest.id === id);
    if (!plugin) throw new PluginNotFound(id);
    return plugin;
  };

  const view = (plugin: DiscoveredPlugin, row: PluginRow | undefined): PluginView => {
    const { manifest } = plugin;
    const running = host?.loaded.has(manifest.id) ?? false;
    const config = validatePluginConfig(manifest, row?.config ?? {});
    return {
      id: manifest.id,
      displayName: manifest.displayName,
      version: manifest.version,
      description: manifest.description ?? null,
      enabled: row?.enabled ?? false,
      running,
      state: stateOf(row, running),
      status: row?.status ?? 'installed',
      dir: plugin.dir,
      requestedPermissions: requestedPermissions(manifest),
      grantedPermissions: row?.grantedPermissions ?? [],
      configSchema: (manifest.config ?? { type: 'object', properties: {} }) as Record<string, unknown>,
      config: config.ok ? config.config : (row?.config ?? {}),
      overlayChannels: manifest.overlayChannels ?? [],
      faultCount: row?.faultCount ?? 0,
      lastError: row?.lastError ?? null,
      lag: host?.lagOf(manifest.id) ?? null,
      quotas,
    };
  };

  /** Admin errors as API errors. */
  const admin = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof PluginAdminError)) throw error;
      if (error.code === 'PERMISSIONS_MISSING') throw new PluginPermissionsMissing(error.message);
      if (error.code === 'PERMISSION_UNKNOWN') throw new PluginPermissionUnknown(error.message);
      if (error.code === 'CONFIG_INVALID') throw withDetails(new PluginConfigInvalid(error.message.split('\n')[0]!), { problems: error.message.split('\n  - ').slice(1) });
      throw new PluginNotFound(error.message);
    }
  };

  const applied = async (plugin: DiscoveredPlugin) => view(plugin, (await host?.apply(plugin.manifest.id)) ?? (await getPluginRow(store, plugin.manifest.id)));

  app.get('/plugins', { schema: { response: { 200: PluginListSchema, ...ERROR_RESPONSES } } }, async (): Promise<PluginList> => {
    const rows = new Map((await listPluginRows(store)).map((row) => [row.pluginId, row]));
    return { plugins: available().map((plugin) => view(plugin, rows.get(plugin.manifest.id))), problems: host?.problems ?? [] };
  });

  app.get<{ Params: Static<typeof PluginParams> }>('/plugins/:id', { schema: { params: PluginParams, ...PluginAnswer } }, async (request) => {
    const plugin = find(request.params.id);
    return view(plugin, await getPluginRow(store, plugin.manifest.id));
  });

  app.post<{ Params: Static<typeof PluginParams>; Body: Static<typeof GrantBody> }>(
    '/plugins/:id/grant',
    { schema: { params: PluginParams, body: GrantBody, ...PluginAnswer } },
    async (request) => {
      const plugin = find(request.params.id);
      const before = (await getPluginRow(store, plugin.manifest.id))?.grantedPermissions ?? [];
      const granted = await admin(() => grantPermissions(store, plugin, request.body.grant));
      // Grants are part of what a plugin runs with: changed, they are applied like the other changes.
      if (granted.join() !== [...before].sort().join()) return applied(plugin);
      return view(plugin, await getPluginRow(store, plugin.manifest.id));
    },
  );

  app.post<{ Params: Static<typeof PluginParams>; Body: Static<typeof EnableBody> }>(
    '/plugins/:id/enable',
    { schema: { params: PluginParams, body: Type.Optional(EnableBody), ...PluginAnswer } },
    async (request) => {
      const plugin = find(request.params.id);
      const grant = request.body?.grant ?? [];
      await admin(async () => {
        if (grant.length > 0) await grantPermissions(store, plugin, grant);
        await enablePlugin(store, plugin);
      });
      return applied(plugin);
    },
  );

  app.post<{ Params: Static<typeof PluginParams> }>('/plugins/:id/disable', { schema: { params: PluginParams, ...PluginAnswer } }, async (request) => {
    const plugin = find(request.params.id);
    await admin(() => disablePlugin(store, plugin));
    return applied(plugin);
  });

  app.put<{ Params: Static<typeof PluginParams>; Body: Static<typeof ConfigBody> }>(
    '/plugins/:id/config',
    { schema: { params: PluginParams, body: ConfigBody, ...PluginAnswer } },
    async (request) => {
      const plugin = find(request.params.id);
      await admin(() => configurePlugin(store, plugin, request.body.config));
      return applied(plugin);
    },
  );

  app.post<{ Params: Static<typeof PluginParams>; Body: Static<typeof DryRunBody> }>(
    '/plugins/:id/dry-run',
    { schema: { params: PluginParams, body: DryRunBody, response: { 200: DryRunSchema, ...ERROR_RESPONSES } } },
    async (request): Promise<DryRun> => {
      const plugin = find(request.params.id);
      const event = dryRunEvent(request.body);
      const row = await getPluginRow(store, plugin.manifest.id);
      const config = { ...(request.body.config ?? row?.config ?? {}) };
      // Plugins that can explain themselves have a `dryRun` setting: on, they say why instead of acting.
      const properties = (plugin.manifest.config as { properties?: Record<string, { type?: string }> } | undefined)?.properties;
      if (properties?.dryRun?.type === 'boolean') config.dryRun = true;
      const checked = validatePluginConfig(plugin.manifest, config);
      if (!checked.ok) throw withDetails(new PluginConfigInvalid(`invalid settings for ${plugin.manifest.id}`), { problems: checked.problems });
      // A throwaway isolate, in a worker thread as every plugin runs, with every requested permission; http is answered 404 and never sent.
      const harness = await createTestHost({ plugin: plugin.dir, config: checked.config, startSandbox: (options) => ThreadedSandbox.start(options) });
      try {
        await harness.send(event);
        return {
          event,
          overlay: harness.overlay,
          logs: harness.logs,
          kvChanges: harness.kvChanges,
          httpRequests: harness.httpCalls,
          faults: harness.faults.map((fault) => ({ kind: fault.kind, message: fault.message })),
        };
      } finally {
        await harness.close();
      }
    },
  );
}

function dryRunEvent(body: Static<typeof DryRunBody>): UnifiedEvent {
  if (body.event) return body.event;
  if (!body.eventType) throw new InvalidRequest('give an event, or an eventType (with an optional payload)');
  const built = buildTestEvent({ eventType: body.eventType, payload: body.payload }, { streamId: 'test', sessionId: '00000000-0000-4000-8000-000000000000' });
  if (!built.ok) throw withDetails(new InvalidRequest(`not a valid ${body.eventType} event`), { problems: built.problems });
  return built.event;
}
