/**
 * The host's HTTP side as `ttlp start` runs it, on both back-ends: real tokens on the WebSockets,
 * the settings session on the live feed, a test event reaching an overlay socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../config.ts';
import { IngestBoard } from '../ingest/status.ts';
import { createLogger } from '../log.ts';
import { refusal, TestSocket } from '../../test/support/overlay-stack.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { enablePlugin, grantPermissions } from '../plugin-runtime/admin.ts';
import { discoverPlugins, FIRST_PARTY_PLUGINS_DIR } from '../plugin-runtime/discovery.ts';
import { PluginHost } from '../plugin-runtime/plugin-host.ts';
import { BACKEND_KINDS, createTestBackend, type TestBackend } from '../../test/support/backends.ts';
import { HostMetrics } from './metrics.ts';
import { HostServer } from './server.ts';

const log = createLogger({ level: 'silent', destination: process.stderr });

describe.each(BACKEND_KINDS)('the host server on the %s back-end', (kind) => {
  let backend: TestBackend;
  let pipeline: Pipeline;
  let plugins: PluginHost;
  let server: HostServer;
  let ws: string;

  beforeAll(async () => {
    backend = await createTestBackend(kind);
    pipeline = await Pipeline.open(loadConfig(backend.env), log);
    pipeline.startStages();
    const alerts = discoverPlugins([FIRST_PARTY_PLUGINS_DIR]).plugins.find((plugin) => plugin.manifest.id === 'alerts')!;
    await grantPermissions(pipeline.store, alerts, 'all');
    await enablePlugin(pipeline.store, alerts);
    plugins = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log, roots: [FIRST_PARTY_PLUGINS_DIR] });
    await plugins.start(pipeline.consumer, { blockMs: 50 });
    server = await HostServer.start({ config: { port: 0, host: '127.0.0.1' }, pipeline, log, metrics: new HostMetrics(pipeline.bus), ingest: new IngestBoard(), plugins });
    ws = server.url.replace(/^http/, 'ws');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await plugins?.close();
    await pipeline?.close();
    await backend?.dispose();
  });

  it('issues the admin token on the first start only', async () => {
    expect(server.firstAdminToken).toMatch(/^ttlp_admin_/);
    expect(await server.tokens.issueFirstAdminToken()).toBeUndefined();
  });

  it('refuses sockets to anonymous requests (401) and to overlay tokens out of their place (403)', async () => {
    const [{ token: alerts }, { token: chat }] = [await server.tokens.overlayToken('alerts'), await server.tokens.overlayToken('chat')];
    expect(await refusal(`${ws}/ws/overlay/alerts`)).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
    expect(await refusal(`${ws}/ws/overlay/alerts?token=${chat}`)).toMatchObject({ status: 403, body: { code: 'AUTH_FORBIDDEN' } });
    expect(await refusal(`${ws}/ws/live`)).toMatchObject({ status: 401 });
    expect(await refusal(`${ws}/ws/live?token=${alerts}`)).toMatchObject({ status: 403 });
    expect(await refusal(`${ws}/ws/overlay/nope?token=${alerts}`)).toMatchObject({ status: 404 });
  });

  it('carries a test event from the API to the alerts overlay socket and the live feed', async () => {
    const { token } = await server.tokens.overlayToken('alerts');
    const overlay = await TestSocket.open(`${ws}/ws/overlay/alerts?token=${token}`);
    overlay.send({ type: 'resume', epoch: null, last: {} });
    // The settings page's session cookie opens the live feed.
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: server.firstAdminToken }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const feed = new WebSocket(`${ws}/ws/live`, { headers: { cookie } });
    const events: Array<{ type: string; event?: { eventId: string } }> = [];
    feed.on('message', (data) => events.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => {
      feed.once('open', resolve);
      feed.once('error', reject);
    });
    await overlay.waitFor((socket) => socket.ofType('reset', 'alerts/alerts').length === 1, 'the reset');

    const sent = await fetch(`${server.url}/api/events/test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.firstAdminToken}` },
      body: JSON.stringify({ eventType: 'FOLLOW' }),
    });
    expect(sent.status).toBe(202);
    const { eventId } = (await sent.json()) as { eventId: string };
    await overlay.waitFor((socket) => socket.ofType('message').some((frame) => frame.eventId === eventId), 'the alert', 15_000);
    expect(overlay.ofType('message').find((frame) => frame.eventId === eventId)).toMatchObject({ channel: 'alerts/alerts', data: { type: 'follow' } });
    await overlay.waitFor(() => events.some((frame) => frame.type === 'event' && frame.event?.eventId === eventId), 'the live feed event', 15_000);
    await overlay.close();
    feed.close();
  });
});
