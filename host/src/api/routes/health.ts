/**
 * `GET /health` (open, for load balancers and compose: component states, no details that help an
 * attacker), `GET /api/status` (the settings page's connection status) and `GET /metrics`
 * (Prometheus; an admin or API token).
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import { HealthSchema, HostStatusSchema, MetricsTextSchema, PLUGIN_BEHIND_EVENTS, type HostStatus } from '@ttlp/sdk/host-contract';
import type { PluginHost } from '../../plugin-runtime/plugin-host.ts';
import { listPluginRows } from '../../store/plugins.ts';
import { ERROR_RESPONSES } from '../errors.ts';

const CHECK_TIMEOUT_MS = 2_000;

type ComponentStatus = 'ok' | 'degraded' | 'fail';

async function within<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function check(work: () => Promise<unknown>): Promise<{ status: ComponentStatus; detail?: string }> {
  try {
    await within(work());
    return { status: 'ok' };
  } catch {
    return { status: 'fail', detail: 'unreachable' };
  }
}

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const { store, bus, ingest, plugins } = app.services;

  const componentStates = async () => {
    const [storage, busState] = await Promise.all([check(() => store.db.execute(sql`select 1`)), check(() => bus.length('events'))]);
    const providers = ingest.list();
    const troubled = providers.filter((entry) => (entry.state === 'disconnected' || entry.state === 'stopped') && entry.lastError);
    const provider =
      troubled.length > 0
        ? { status: 'degraded' as const, detail: troubled.map((entry) => `${entry.user ? `@${entry.user}` : entry.name} ${entry.state}`).join(', ') }
        : { status: 'ok' as const };
    const faulted = storage.status === 'ok' ? (await listPluginRows(store)).filter((row) => row.status === 'faulted' || row.status === 'failed' || (!row.enabled && row.lastError)) : [];
    const pluginState = faulted.length > 0 ? { status: 'degraded' as const, detail: `faulted: ${faulted.map((row) => row.pluginId).join(', ')}` } : { status: 'ok' as const };
    return { storage, bus: busState, provider, plugins: pluginState, faulted: faulted.map((row) => row.pluginId) };
  };

  app.get('/health', { schema: { response: { 200: HealthSchema, 503: HealthSchema, ...ERROR_RESPONSES } } }, async (_request, reply) => {
    const { faulted: _faulted, ...components } = await componentStates();
    const failing = Object.entries(components).filter(([, state]) => state.status === 'fail').map(([name]) => name);
    const degraded = Object.values(components).some((state) => state.status === 'degraded');
    const status = failing.length > 0 ? 'fail' : degraded ? 'degraded' : 'ok';
    const streams = ingest.list().map((entry) => ({ provider: entry.name, user: entry.user, state: entry.state, reconnects: entry.reconnects }));
    return reply.status(failing.length > 0 ? 503 : 200).send({ status, failing, components, streams });
  });

  app.get('/api/status', { onRequest: app.requireAdmin, schema: { response: { 200: HostStatusSchema, ...ERROR_RESPONSES } } }, async (): Promise<HostStatus> => {
    const states = await componentStates();
    return {
      provider: ingest.list(),
      bus: { kind: bus.kind, ok: states.bus.status === 'ok' },
      storage: { driver: store.driver, ok: states.storage.status === 'ok' },
      plugins: { running: [...(plugins?.loaded.keys() ?? [])], faulted: states.faulted, behind: behindPlugins(plugins) },
    };
  });

  app.get('/metrics', { onRequest: app.requireAdmin, schema: { response: { 200: MetricsTextSchema, ...ERROR_RESPONSES } } }, async (_request, reply) => {
    const registry = app.services.metrics.registry;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

/** The running plugins far enough behind the stream to show, furthest first. */
function behindPlugins(plugins: PluginHost | undefined): HostStatus['plugins']['behind'] {
  return [...(plugins?.loaded.keys() ?? [])]
    .map((id) => ({ id, events: plugins?.lagOf(id) ?? 0 }))
    .filter((plugin) => plugin.events >= PLUGIN_BEHIND_EVENTS)
    .sort((a, b) => b.events - a.events);
}
