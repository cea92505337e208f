/**
 * The host as `ttlp start` runs it (createHost), in-process: on both back-ends, real tokens on the
 * WebSockets, the settings session on the live feed, a test event reaching an overlay socket; the
 * demo provider feeding it until stopped; every followed user given up; a port in use.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig, type HostConfig } from './config.ts';
import { createHost, type Host } from './host.ts';
import { createLogger } from './log.ts';
import { refusal, TestSocket } from '../test/support/overlay-stack.ts';
import { enablePlugin, grantPermissions } from './plugin-runtime/admin.ts';
import { discoverPlugins, FIRST_PARTY_PLUGINS_DIR } from './plugin-runtime/discovery.ts';
import { openStore } from './store/database.ts';
import { countEvents } from './store/sessions.ts';
import { BACKEND_KINDS, createTestBackend, type TestBackend } from '../test/support/backends.ts';
import { fakeOverlaysDir } from '../test/support/host-app.ts';

const log = createLogger({ level: 'silent', destination: process.stderr });

/** A back-end's configuration for a host on any free port. */
const hostConfig = (backend: TestBackend, env: NodeJS.ProcessEnv = {}): HostConfig => loadConfig({ ...backend.env, PORT: '0', ...env });

describe.each(BACKEND_KINDS)('the host on the %s back-end', (kind) => {
  let backend: TestBackend;
  let host: Host;
  let ws: string;

  beforeAll(async () => {
    backend = await createTestBackend(kind);
    const config = hostConfig(backend);
    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    const alerts = discoverPlugins([FIRST_PARTY_PLUGINS_DIR]).plugins.find((plugin) => plugin.manifest.id === 'alerts')!;
    await grantPermissions(store, alerts, 'all');
    await enablePlugin(store, alerts);
    await store.close();
    host = await createHost(config, { log, ingest: false, overlaysDir: fakeOverlaysDir() });
    ws = host.url.replace(/^http/, 'ws');
  });

  afterAll(async () => {
    await host?.close();
    await backend?.dispose();
  });

  it('issues the admin token on the first start only', async () => {
    expect(host.firstAdminToken).toMatch(/^ttlp_admin_/);
    expect(await host.tokens.issueFirstAdminToken()).toBeUndefined();
  });

  it('gives each widget an overlay URL with its own token', async () => {
    const urls = await host.overlayUrls();
    // The host's counters, and the widget of the one plugin this host runs.
    expect(urls.map((entry) => entry.widget)).toEqual(['host/counters', 'alerts/alerts']);
    for (const { widget, url } of urls) expect(url).toBe(`${host.url}/overlay/${widget}?token=${(await host.tokens.overlayToken(widget)).token}`);
  });

  it('refuses sockets to anonymous requests (401) and to overlay tokens out of their place (403)', async () => {
    const [{ token: alerts }, { token: counters }] = [await host.tokens.overlayToken('alerts/alerts'), await host.tokens.overlayToken('host/counters')];
    expect(await refusal(`${ws}/ws/overlay/alerts/alerts`)).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
    expect(await refusal(`${ws}/ws/overlay/alerts/alerts?token=${counters}`)).toMatchObject({ status: 403, body: { code: 'AUTH_FORBIDDEN' } });
    expect(await refusal(`${ws}/ws/live`)).toMatchObject({ status: 401 });
    expect(await refusal(`${ws}/ws/live?token=${alerts}`)).toMatchObject({ status: 403 });
    expect(await refusal(`${ws}/ws/overlay/nope/main?token=${alerts}`)).toMatchObject({ status: 404 });
  });

  it('carries a test event from the API to the alerts overlay socket and the live feed', async () => {
    const { token } = await host.tokens.overlayToken('alerts/alerts');
    const overlay = await TestSocket.open(`${ws}/ws/overlay/alerts/alerts?token=${token}`);
    overlay.send({ type: 'resume', epoch: null, last: {} });
    // The settings page's session cookie opens the live feed.
    const login = await fetch(`${host.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: host.firstAdminToken }),
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

    const sent = await fetch(`${host.url}/api/events/test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${host.firstAdminToken}` },
      body: JSON.stringify({ eventType: 'FOLLOW' }),
    });
    expect(sent.status).toBe(202);
    const { eventId } = (await sent.json()) as { eventId: string };
    await overlay.waitFor((socket) => socket.ofType('message').some((frame) => frame.eventId === eventId), 'the alert');
    expect(overlay.ofType('message').find((frame) => frame.eventId === eventId)).toMatchObject({ channel: 'alerts/alerts', data: { type: 'follow' } });
    await overlay.waitFor(() => events.some((frame) => frame.type === 'event' && frame.event?.eventId === eventId), 'the live feed event');
    await overlay.close();
    feed.close();
  });

  it('without ingest, runs until told to stop', async () => {
    const stop = new AbortController();
    const run = host.run(stop.signal);
    expect(((await (await fetch(`${host.url}/health`)).json()) as { streams: unknown[] }).streams).toEqual([]);
    stop.abort();
    expect(await run).toBe('stopped');
  });
});

describe('the host on the embedded back-end', () => {
  it('feeds the demo provider until stopped, drains what it published into storage, and closes', async () => {
    const backend = await createTestBackend('embedded');
    try {
      const config = hostConfig(backend, { DEMO_RATE: '200', DEMO_SEED: '7' });
      const host = await createHost(config, { log, overlaysDir: fakeOverlaysDir() });
      const stop = new AbortController();
      let run: Promise<string> | undefined;
      try {
        run = host.run(stop.signal);
        type Health = { status: string; streams: Array<{ provider: string; state: string }> };
        await expect.poll(async () => ((await (await fetch(`${host.url}/health`)).json()) as Health).streams).toEqual([{ provider: 'demo', user: null, state: 'connected', reconnects: 0 }]);
        const sessions = async () =>
          ((await (await fetch(`${host.url}/api/sessions`, { headers: { authorization: `Bearer ${host.firstAdminToken}` } })).json()) as { sessions: Array<{ sessionId: string }> }).sessions;
        await expect.poll(sessions).toHaveLength(1);
        const sessionId = (await sessions())[0]!.sessionId;
        await expect.poll(() => countEvents(host.pipeline.store, sessionId)).toBeGreaterThan(20);
        stop.abort();
        expect(await run).toBe('stopped');
        // Stopped: the board says so, and everything published was stored before `run` resolved.
        expect(((await (await fetch(`${host.url}/health`)).json()) as Health).streams[0]!.state).toBe('stopped');
        const stored = await countEvents(host.pipeline.store, sessionId);
        expect(stored).toBeGreaterThan(20);
      } finally {
        stop.abort();
        await run;
        await host.close();
      }
      // Closed: the port is free, and the data directory opens again.
      await expect(fetch(`${host.url}/health`)).rejects.toThrow();
      const store = await openStore({ dataDir: config.dataDir });
      await store.close();
    } finally {
      await backend.dispose();
    }
  });

  it('ends its run as given up when every followed user is, and a port in use fails the start leaving nothing open', async () => {
    const backend = await createTestBackend('embedded');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      const busy = hostConfig(backend, { PORT: String(port) });
      await expect(createHost(busy, { log, overlaysDir: fakeOverlaysDir() })).rejects.toMatchObject({ code: 'EADDRINUSE' });

      // Nothing listens at the TikTok URL, and there is no second attempt.
      const config = hostConfig(backend, { TIKTOK_USERNAME: 'nobody', TIKTOK_URL: 'http://127.0.0.1:9', RECONNECT_MAX_ATTEMPTS: '1' });
      const host = await createHost(config, { log, overlaysDir: fakeOverlaysDir() });
      try {
        expect(await host.run(new AbortController().signal)).toBe('gave-up');
      } finally {
        await host.close();
      }
    } finally {
      taken.close();
      await backend.dispose();
    }
  });
});
