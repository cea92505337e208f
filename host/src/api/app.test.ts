/** The HTTP API through `app.inject()` on the embedded back-end, with the first-party plugins. */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnifiedEvent } from '@ttlp/sdk';
import type { OverlayLink } from '@ttlp/sdk/host-contract';
import { DEFAULT_LIMITS, pluginQuotas } from '@ttlp/sdk/sandbox';
import { STORAGE_GROUP } from '../pipeline/stages.ts';
import type { OverlayMessage } from '../bus/types.ts';
import { fakeOverlaysDir, openTestApp, type TestApp } from '../../test/support/host-app.ts';
import { LoginLimiter } from './auth.ts';

let host: TestApp;
let overlaysDir: string;

beforeAll(async () => {
  overlaysDir = fakeOverlaysDir();
  host = await openTestApp('embedded', { overlaysDir, loginLimiter: new LoginLimiter(3, 60_000), env: { PLUGIN_HEAP_MB: '96' } });
});

afterAll(async () => {
  await host?.close();
});

/** Waits until everything published to `events` so far is stored and seen by the plugins. */
async function settled(): Promise<void> {
  const last = await host.pipeline.bus.lastId('events');
  if (!last) return;
  for (let i = 0; i < 200; i += 1) {
    if ((await host.pipeline.bus.processed('events', STORAGE_GROUP, last)) && (await host.plugins.processed(last))) return;
    await delay(25);
  }
  throw new Error('events were not processed');
}

const ADMIN_ROUTES: Array<[string, string]> = [
  ['GET', '/api/status'],
  ['GET', '/metrics'],
  ['GET', '/api/streams'],
  ['GET', '/api/sessions'],
  ['GET', '/api/sessions/00000000-0000-4000-8000-000000000000/events'],
  ['POST', '/api/sessions/00000000-0000-4000-8000-000000000000/replay'],
  ['GET', '/api/plugins'],
  ['POST', '/api/plugins/alerts/grant'],
  ['POST', '/api/plugins/alerts/enable'],
  ['POST', '/api/plugins/alerts/disable'],
  ['PUT', '/api/plugins/alerts/config'],
  ['POST', '/api/plugins/rules/dry-run'],
  ['POST', '/api/events/test'],
  ['GET', '/api/tokens'],
  ['POST', '/api/tokens'],
  ['DELETE', '/api/tokens/00000000-0000-4000-8000-000000000000'],
  ['GET', '/api/overlays'],
  ['POST', '/api/overlays/host/counters/regenerate'],
  ['POST', '/api/overlays/host/counters/options'],
  ['POST', '/api/gdpr/erase'],
];

describe('auth', () => {
  it('refuses every admin route to anonymous requests (401) and to overlay tokens (403)', async () => {
    const { token } = await host.tokens.overlayToken('alerts/alerts');
    for (const [method, url] of ADMIN_ROUTES) {
      const anonymous = await host.app.inject({ method: method as 'GET', url, payload: method === 'GET' ? undefined : {} });
      expect([method, url, anonymous.statusCode, anonymous.json().code]).toEqual([method, url, 401, 'AUTH_REQUIRED']);
      const overlay = await host.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}` }, payload: method === 'GET' ? undefined : {} });
      expect([method, url, overlay.statusCode, overlay.json().code]).toEqual([method, url, 403, 'AUTH_FORBIDDEN']);
      // Not even in the query string, where overlay tokens travel.
      const viaQuery = await host.app.inject({ method: method as 'GET', url: `${url}?token=${token}`, payload: method === 'GET' ? undefined : {} });
      expect(viaQuery.statusCode).toBe(403);
    }
  });

  it('logs the settings page in with the admin token: an httpOnly, SameSite=Strict session cookie', async () => {
    const login = await host.app.inject({ method: 'POST', url: '/api/auth/login', payload: { token: host.adminToken } });
    expect(login.statusCode).toBe(204);
    const cookie = login.cookies.find((entry) => entry.name === 'ttlp_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie.value).not.toContain(host.adminToken);
    const me = await host.app.inject({ method: 'GET', url: '/api/auth/me', cookies: { ttlp_session: cookie.value } });
    expect(me.json()).toMatchObject({ kind: 'admin' });
    expect((await host.app.inject({ method: 'GET', url: '/api/plugins', cookies: { ttlp_session: cookie.value } })).statusCode).toBe(200);
    const logout = await host.app.inject({ method: 'POST', url: '/api/auth/logout', cookies: { ttlp_session: cookie.value } });
    expect(logout.statusCode).toBe(204);
    expect((await host.app.inject({ method: 'GET', url: '/api/plugins', cookies: { ttlp_session: cookie.value } })).statusCode).toBe(401);
  });

  it('accepts only the admin token for a login, and limits failed logins per address', async () => {
    const { token: overlay } = await host.tokens.overlayToken('chat/chat');
    const attempt = (token: string, remoteAddress = '10.9.8.7') => host.app.inject({ method: 'POST', url: '/api/auth/login', payload: { token }, remoteAddress });
    expect((await attempt(overlay)).json().code).toBe('AUTH_INVALID_TOKEN');
    expect((await attempt('wrong')).statusCode).toBe(401);
    expect((await attempt('wrong again')).statusCode).toBe(401);
    const limited = await attempt(host.adminToken);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'AUTH_RATE_LIMITED' });
    expect(limited.json().retryAfter).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBe(limited.json().retryAfter);
    // Another address is not affected.
    expect((await attempt(host.adminToken, '10.9.8.8')).statusCode).toBe(204);
  });

  it('manages API tokens: created, used as bearer, revoked', async () => {
    const created = await host.app.inject({ method: 'POST', url: '/api/tokens', headers: host.admin, payload: { kind: 'api', name: 'stream deck' } });
    expect(created.statusCode).toBe(201);
    const { token, tokenId } = created.json();
    expect(token).toMatch(/^ttlp_api_/);
    const bearer = { authorization: `Bearer ${token}` };
    expect((await host.app.inject({ method: 'GET', url: '/api/plugins', headers: bearer })).statusCode).toBe(200);
    const list = (await host.app.inject({ method: 'GET', url: '/api/tokens', headers: host.admin })).json();
    expect(list.tokens.find((entry: { tokenId: string }) => entry.tokenId === tokenId)).toMatchObject({ name: 'stream deck', kind: 'api' });
    expect(JSON.stringify(list)).not.toContain(token);
    expect((await host.app.inject({ method: 'DELETE', url: `/api/tokens/${tokenId}`, headers: host.admin })).statusCode).toBe(204);
    expect((await host.app.inject({ method: 'GET', url: '/api/plugins', headers: bearer })).statusCode).toBe(401);
  });

  it("accepts the host's token for local commands as a bearer: never stored, and only the latest one", async () => {
    const first = host.tokens.issueLocalToken();
    expect(first).toMatch(/^ttlp_api_/);
    const me = await host.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${first}` } });
    expect(me.json()).toEqual({ kind: 'api', tokenId: 'command-line' });
    const listed = (await host.app.inject({ method: 'GET', url: '/api/tokens', headers: host.admin })).json();
    expect(JSON.stringify(listed)).not.toContain('command-line');
    const second = host.tokens.issueLocalToken();
    expect((await host.app.inject({ method: 'GET', url: '/api/plugins', headers: { authorization: `Bearer ${second}` } })).statusCode).toBe(200);
    expect((await host.app.inject({ method: 'GET', url: '/api/plugins', headers: { authorization: `Bearer ${first}` } })).statusCode).toBe(401);
  });

  it("gives each widget of the host and of the running plugins an overlay URL whose token can be regenerated (the old one stops working)", async () => {
    const list = async () =>
      (await host.app.inject({ method: 'GET', url: '/api/overlays', headers: { ...host.admin, host: 'obs.local:8787' } })).json().overlays as OverlayLink[];
    expect((await list()).map((entry) => entry.widget)).toEqual(['host/counters']);
    const { requestedPermissions } = (await host.app.inject({ method: 'GET', url: '/api/plugins/chat', headers: host.admin })).json();
    expect((await host.app.inject({ method: 'POST', url: '/api/plugins/chat/enable', headers: host.admin, payload: { grant: requestedPermissions } })).statusCode).toBe(200);
    try {
      const [counters, chat] = await list();
      expect(counters).toMatchObject({ widget: 'host/counters', pluginId: 'host', widgetId: 'counters', displayName: 'Counters', buildError: null });
      expect(chat).toMatchObject({ widget: 'chat/chat', pluginId: 'chat', widgetId: 'chat', displayName: 'Chat', size: { width: 1920, height: 1080 }, buildError: null });
      // Its own options, then the look every widget with a look has, the chat's defaults in it.
      const properties = (chat!.options as { properties: Record<string, { default?: unknown }> }).properties;
      expect(Object.keys(properties)).toEqual(['max', 'fadeMs', 'avatars', 'badges', 'color', 'bg', 'accent', 'shadow', 'font', 'fontSize', 'position', 'margin', 'width']);
      expect([properties.position!.default, properties.fontSize!.default]).toEqual(['bottom-left', 26]);
      expect(chat!.url).toMatch(/^http:\/\/obs\.local:8787\/overlay\/chat\/chat\?token=ttlp_ov_/);
      const oldToken = new URL(chat!.url).searchParams.get('token')!;
      expect((await host.tokens.authenticate({ headers: {}, query: { token: oldToken } } as never))?.widget).toBe('chat/chat');
      const regenerated = (await host.app.inject({ method: 'POST', url: '/api/overlays/chat/chat/regenerate', headers: host.admin })).json();
      expect(regenerated.tokenId).not.toBe(chat!.tokenId);
      expect(await host.tokens.authenticate({ headers: {}, query: { token: oldToken } } as never)).toBeUndefined();
      expect((await host.app.inject({ method: 'POST', url: '/api/overlays/nope/main/regenerate', headers: host.admin })).json().code).toBe('OVERLAY_UNKNOWN_WIDGET');
    } finally {
      await host.app.inject({ method: 'POST', url: '/api/plugins/chat/disable', headers: host.admin });
    }
    expect((await list()).map((entry) => entry.widget)).toEqual(['host/counters']);
  });

  it('reads a widget URL as its page would, naming each option it ignores and why', async () => {
    const check = (query: string) =>
      host.app.inject({ method: 'POST', url: '/api/overlays/host/counters/options', headers: host.admin, payload: { query } });
    const read = (await check('http://obs.local:8787/overlay/host/counters?token=t&layout=column&show=likes,bogus&fontSize=500&ttl=3#fontSize=9')).json();
    expect(read.options).toMatchObject({ layout: 'column', show: 'likes,viewers', fontSize: 30, position: 'bottom-right' });
    expect(read.ignored).toEqual([
      { option: 'show', reason: expect.stringMatching(/must match pattern/) },
      { option: 'fontSize', reason: '/fontSize must be <= 200' },
      { option: 'ttl', reason: 'the widget has no such option' },
    ]);
    expect((await check('labels=0&compact=1')).json()).toMatchObject({ options: { labels: false, compact: true }, ignored: [] });
    expect((await host.app.inject({ method: 'POST', url: '/api/overlays/nope/main/options', headers: host.admin, payload: { query: '' } })).json().code).toBe('OVERLAY_UNKNOWN_WIDGET');
  });
});

describe('health, status and metrics', () => {
  it('reports each component', async () => {
    const health = await host.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', failing: [], components: { storage: { status: 'ok' }, bus: { status: 'ok' } } });
    host.ingest.add({ name: 'demo', user: null, streamId: '7000000000000000009', sessionId: '00000000-0000-4000-8000-00000000000a', state: 'connected' });
    const status = (await host.app.inject({ method: 'GET', url: '/api/status', headers: host.admin })).json();
    expect(status.provider).toEqual([expect.objectContaining({ name: 'demo', state: 'connected', reconnects: 0 })]);
    expect(status).toMatchObject({ bus: { kind: 'memory', ok: true }, storage: { driver: 'pglite', ok: true } });
  });

  it('shows each followed stream in /health, and a stream that lost its connection as degraded', async () => {
    const board = host.ingest;
    const before = board.list().length;
    const live = board.add({ name: 'direct', user: 'first_creator', state: 'connected' });
    board.add({ name: 'direct', user: 'second_creator', state: 'offline' });
    let health = (await host.app.inject({ method: 'GET', url: '/health' })).json();
    expect(health.streams.slice(before)).toEqual([
      { provider: 'direct', user: 'first_creator', state: 'connected', reconnects: 0 },
      { provider: 'direct', user: 'second_creator', state: 'offline', reconnects: 0 },
    ]);
    expect(health.components.provider).toEqual({ status: 'ok' });
    Object.assign(live, { state: 'disconnected', lastError: 'the connection was lost (close code 1006)', reconnects: 2 });
    health = (await host.app.inject({ method: 'GET', url: '/health' })).json();
    expect(health).toMatchObject({ status: 'degraded', components: { provider: { status: 'degraded', detail: '@first_creator disconnected' } } });
    // No error text or session ids on the open endpoint.
    expect(JSON.stringify(health)).not.toContain('1006');
    live.state = 'connected';
    live.lastError = null;
  });

  it('exports Prometheus metrics', async () => {
    const metrics = await host.app.inject({ method: 'GET', url: '/metrics', headers: host.admin });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    for (const name of ['ttlp_events_stored_total', 'ttlp_events_rejected_total', 'ttlp_bus_lag_seconds', 'ttlp_plugin_faults_total', 'ttlp_plugin_dispatch_seconds', 'ttlp_plugin_lag_events', 'ttlp_overlay_clients'])
      expect(metrics.body).toContain(name);
  });
});

describe('plugins', () => {
  it('lists the plugins with what they request, their settings schema and state', async () => {
    const { plugins } = (await host.app.inject({ method: 'GET', url: '/api/plugins', headers: host.admin })).json();
    expect(plugins.map((plugin: { id: string }) => plugin.id)).toEqual(['alerts', 'chat', 'goals', 'leaderboard', 'rules', 'webhook']);
    expect(plugins[0]).toMatchObject({
      id: 'alerts',
      enabled: false,
      running: false,
      requestedPermissions: ['events:FOLLOW', 'events:SHARE', 'events:SUBSCRIBE', 'events:GIFT', 'overlay:alerts'],
      grantedPermissions: [],
      overlayChannels: ['alerts'],
    });
    expect(plugins[0].configSchema.type).toBe('object');
    // The limits the host runs each plugin within: its configured heap, the rest by default.
    for (const plugin of plugins) expect(plugin.quotas).toEqual({ ...pluginQuotas(DEFAULT_LIMITS), memoryMb: 96 });
  });

  it('enables a plugin only with its permissions granted, and runs it at once', async () => {
    const refused = await host.app.inject({ method: 'POST', url: '/api/plugins/alerts/enable', headers: host.admin, payload: { grant: [] } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'PLUGIN_PERMISSIONS_MISSING' });
    expect(refused.json().message).toContain('events:FOLLOW');
    const unknown = await host.app.inject({ method: 'POST', url: '/api/plugins/alerts/enable', headers: host.admin, payload: { grant: ['kv'] } });
    expect(unknown.json().code).toBe('PLUGIN_PERMISSION_UNKNOWN');
    const { requestedPermissions } = (await host.app.inject({ method: 'GET', url: '/api/plugins/alerts', headers: host.admin })).json();
    const enabled = await host.app.inject({ method: 'POST', url: '/api/plugins/alerts/enable', headers: host.admin, payload: { grant: requestedPermissions } });
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json()).toMatchObject({ enabled: true, running: true, state: 'running' });
    expect(host.plugins.loaded.has('alerts')).toBe(true);
  });

  it('checks settings against the schema and applies them to the running plugin', async () => {
    const invalid = await host.app.inject({ method: 'PUT', url: '/api/plugins/alerts/config', headers: host.admin, payload: { config: { gift: { minCoins: -5 } } } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().code).toBe('PLUGIN_CONFIG_INVALID');
    expect(invalid.json().problems.join(' ')).toContain('minCoins');
    const saved = await host.app.inject({
      method: 'PUT',
      url: '/api/plugins/alerts/config',
      headers: host.admin,
      payload: { config: { gift: { template: '{user} gave {giftName} ×{count}!' } } },
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json().config.gift.template).toBe('{user} gave {giftName} ×{count}!');
    expect(saved.json()).toMatchObject({ running: true });
  });

  it('sends test events through the pipeline: stored, marked as test, and seen by enabled plugins', async () => {
    const sent = await host.app.inject({
      method: 'POST',
      url: '/api/events/test',
      headers: host.admin,
      payload: { eventType: 'GIFT', payload: { giftName: 'Galaxy', giftCount: 2, coins: 2000 } },
    });
    expect(sent.statusCode).toBe(202);
    const { eventId, sessionId } = sent.json();
    await settled();
    const page = (await host.app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/events?type=GIFT`, headers: host.admin })).json();
    const stored = page.events.find((event: UnifiedEvent) => event.eventId === eventId);
    expect(stored).toMatchObject({ eventType: 'GIFT', test: true, payload: { giftName: 'Galaxy', coins: 2000 } });
    // The alerts plugin (enabled above, with the template set above) turned it into an alert.
    const overlay = await host.pipeline.bus.range<OverlayMessage>('overlay');
    const alert = overlay.map((entry) => entry.payload).find((message) => message.eventId === eventId);
    expect(alert).toMatchObject({ pluginId: 'alerts', channel: 'alerts', data: { type: 'gift', text: 'Test Viewer gave Galaxy ×2!' } });
    const bad = await host.app.inject({ method: 'POST', url: '/api/events/test', headers: host.admin, payload: { eventType: 'GIFT', payload: { coins: -1 } } });
    expect(bad.statusCode).toBe(400);
    expect((await host.app.inject({ method: 'POST', url: '/api/events/test', headers: host.admin, payload: { eventType: 'NOPE' } })).json().code).toBe('INVALID_REQUEST');
  });

  it('disables a plugin at once', async () => {
    const disabled = await host.app.inject({ method: 'POST', url: '/api/plugins/alerts/disable', headers: host.admin });
    expect(disabled.json()).toMatchObject({ enabled: false, running: false, state: 'disabled' });
    expect(host.plugins.loaded.has('alerts')).toBe(false);
  });

  it('dry-runs a plugin: what it would do with an event, and why not, without doing it', async () => {
    const before = await host.pipeline.bus.length('overlay');
    const rules = [
      { id: 'big', name: 'Big gifts', events: ['GIFT'], condition: { '>=': [{ var: 'payload.coins' }, 100] }, actions: [{ type: 'overlay', template: 'big gift from {user.uniqueId}' }] },
      { id: 'chat-only', name: 'Chat', events: ['CHAT'], actions: [{ type: 'log', level: 'info', template: 'chat' }] },
    ];
    const run = await host.app.inject({
      method: 'POST',
      url: '/api/plugins/rules/dry-run',
      headers: host.admin,
      payload: { eventType: 'GIFT', payload: { coins: 500 }, config: { rules } },
    });
    const result = run.json();
    expect([run.statusCode, result]).toEqual([200, expect.anything()]);
    expect(result.event.eventType).toBe('GIFT');
    expect(result.overlay).toEqual([]);
    const plans = result.logs.map((entry: { fields?: Record<string, unknown> }) => entry.fields);
    expect(plans).toEqual([
      expect.objectContaining({ ruleId: 'big', matched: true, actions: [expect.objectContaining({ type: 'overlay', message: expect.objectContaining({ text: 'big gift from ttlp_test_viewer' }) })] }),
      expect.objectContaining({ ruleId: 'chat-only', matched: false, reasons: ['the rule applies to CHAT, not GIFT'] }),
    ]);
    expect(await host.pipeline.bus.length('overlay')).toBe(before);
    const unknown = await host.app.inject({ method: 'POST', url: '/api/plugins/nope/dry-run', headers: host.admin, payload: { eventType: 'GIFT' } });
    expect(unknown.json().code).toBe('PLUGIN_NOT_FOUND');
  });

  it('dry-runs a whole event given in the body, and refuses one that breaks the contract as an invalid request', async () => {
    const built = await host.app.inject({ method: 'POST', url: '/api/plugins/rules/dry-run', headers: host.admin, payload: { eventType: 'CHAT' } });
    const { event } = built.json();
    const given = await host.app.inject({ method: 'POST', url: '/api/plugins/rules/dry-run', headers: host.admin, payload: { event } });
    expect([given.statusCode, given.json().event]).toEqual([200, event]);
    const broken = await host.app.inject({
      method: 'POST',
      url: '/api/plugins/rules/dry-run',
      headers: host.admin,
      payload: { event: { ...event, eventId: 'not-an-id' } },
    });
    expect([broken.statusCode, broken.json()]).toEqual([400, { code: 'INVALID_REQUEST', message: expect.stringContaining('eventId') }]);
  });
});

describe('sessions', () => {
  it('lists sessions with counts, pages through events with filters, and replays a session', async () => {
    let sessionId = '';
    for (const message of ['one', 'two', 'three']) {
      const sent = await host.app.inject({ method: 'POST', url: '/api/events/test', headers: host.admin, payload: { eventType: 'CHAT', payload: { message } } });
      expect(sent.statusCode).toBe(202);
      sessionId = sent.json().sessionId;
    }
    await settled();
    const { sessions } = (await host.app.inject({ method: 'GET', url: '/api/sessions', headers: host.admin })).json();
    const session = sessions.find((entry: { sessionId: string }) => entry.sessionId === sessionId);
    // The stream the status test connected: test events join its session.
    expect(session).toMatchObject({ streamId: '7000000000000000009', type: 'live', endedAt: null, replayedFrom: null });
    const everything = (await host.app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/events?limit=1000`, headers: host.admin })).json();
    expect(everything.events).toHaveLength(session.eventCount);
    const first = (await host.app.inject({ method: 'GET', url: `/api/sessions/${session.sessionId}/events?type=CHAT&limit=2`, headers: host.admin })).json();
    expect(first.events).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await host.app.inject({ method: 'GET', url: `/api/sessions/${session.sessionId}/events?type=CHAT&limit=2&cursor=${first.nextCursor}`, headers: host.admin })).json();
    const messages = [...first.events, ...second.events].map((event: UnifiedEvent & { payload: { message: string } }) => event.payload.message);
    expect(messages.sort()).toEqual(['one', 'three', 'two']);
    expect(second.nextCursor).toBeNull();
    expect((await host.app.inject({ method: 'GET', url: `/api/sessions/${session.sessionId}/events?cursor=bogus`, headers: host.admin })).json().code).toBe('INVALID_REQUEST');

    const replay = await host.app.inject({ method: 'POST', url: `/api/sessions/${session.sessionId}/replay`, headers: host.admin, payload: {} });
    expect(replay.statusCode).toBe(202);
    expect(replay.json().replayedFrom).toBe(session.sessionId);
    await delay(100);
    await settled();
    const replayed = (await host.app.inject({ method: 'GET', url: '/api/sessions', headers: host.admin })).json().sessions.find(
      (entry: { sessionId: string }) => entry.sessionId === replay.json().sessionId,
    );
    expect(replayed).toMatchObject({ type: 'replay', replayedFrom: session.sessionId, eventCount: session.eventCount });
    const missing = await host.app.inject({ method: 'POST', url: '/api/sessions/00000000-0000-4000-8000-000000000099/replay', headers: host.admin, payload: { speed: 2 } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('SESSION_NOT_FOUND');
    const streams = (await host.app.inject({ method: 'GET', url: '/api/streams', headers: host.admin })).json();
    expect(streams.streams.find((stream: { streamId: string }) => stream.streamId === session.streamId).sessions).toBeGreaterThanOrEqual(2);
  });
});

describe('erasure requests', () => {
  it("erase a viewer through the API, once; unknown viewers are 404", async () => {
    const sent = await host.app.inject({ method: 'POST', url: '/api/events/test', headers: host.admin, payload: { eventType: 'CHAT', user: { userId: '7000000000000000777', uniqueId: 'erase_me', displayName: 'Erase Me' }, payload: { message: 'my words' } } });
    expect(sent.statusCode).toBe(202);
    await settled();
    const erased = await host.app.inject({ method: 'POST', url: '/api/gdpr/erase', headers: host.admin, payload: { uniqueId: '@erase_me' } });
    expect(erased.statusCode).toBe(200);
    expect(erased.json()).toMatchObject({ alreadyErased: false, tablesTouched: expect.arrayContaining(['users', 'events']) });
    const page = (await host.app.inject({ method: 'GET', url: `/api/sessions/${sent.json().sessionId}/events?type=CHAT&limit=1000`, headers: host.admin })).json();
    const event = page.events.find((entry: UnifiedEvent) => entry.eventId === sent.json().eventId);
    expect(JSON.stringify(event)).not.toMatch(/erase_me|Erase Me|7000000000000000777|my words/);
    const again = await host.app.inject({ method: 'POST', url: '/api/gdpr/erase', headers: host.admin, payload: { userId: '7000000000000000777' } });
    expect(again.json()).toMatchObject({ alreadyErased: true, rowsAffected: 0 });
    const unknown = await host.app.inject({ method: 'POST', url: '/api/gdpr/erase', headers: host.admin, payload: { uniqueId: 'never_seen_here' } });
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'ERASURE_SUBJECT_NOT_FOUND']);
    expect((await host.app.inject({ method: 'POST', url: '/api/gdpr/erase', headers: host.admin, payload: {} })).statusCode).toBe(400);
  });
});

describe('errors and pages', () => {
  it('answers bad input with 4xx JSON and a code', async () => {
    const notFound = await host.app.inject({ method: 'GET', url: '/api/nothing-here', headers: host.admin });
    expect([notFound.statusCode, notFound.json().code]).toEqual([404, 'NOT_FOUND']);
    const invalid = await host.app.inject({ method: 'GET', url: '/api/sessions/not-a-uuid/events', headers: host.admin });
    expect([invalid.statusCode, invalid.json().code]).toEqual([400, 'INVALID_REQUEST']);
    const tooLarge = await host.app.inject({ method: 'PUT', url: '/api/plugins/alerts/config', headers: { ...host.admin, 'content-type': 'application/json' }, payload: JSON.stringify({ config: { x: 'y'.repeat(300_000) } }) });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json().code).toEqual(expect.any(String));
    const malformed = await host.app.inject({ method: 'POST', url: '/api/events/test', headers: { ...host.admin, 'content-type': 'application/json' }, payload: '{"eventType":' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toEqual(expect.any(String));
  });

  it('serves the settings page, widget pages and assets; unknown widgets are 404', async () => {
    const settings = await host.app.inject({ method: 'GET', url: '/' });
    expect(settings.body).toContain('<title>settings</title>');
    expect(settings.headers['content-security-policy']).toContain("script-src 'self'");
    expect(settings.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(settings.headers['referrer-policy']).toBe('no-referrer');
    // The URL a widget had before it was its plugin's (or the host's) takes the browser to the widget, query and all.
    const legacy = await host.app.inject({ method: 'GET', url: '/overlay/counters?token=x&fontSize=40' });
    expect([legacy.statusCode, legacy.headers.location]).toEqual([302, '/overlay/host/counters?token=x&fontSize=40']);
    const counters = await host.app.inject({ method: 'GET', url: '/overlay/host/counters?token=x' });
    expect(counters.statusCode).toBe(200);
    expect(counters.headers['content-security-policy']).toContain('sandbox allow-scripts');
    // A widget whose plugin is off: a blank page that asks again, so that OBS shows it once the plugin runs.
    for (const url of ['/overlay/alerts?token=x', '/overlay/alerts/alerts?token=x', '/overlay/nope/main']) {
      const waiting = await host.app.inject({ method: 'GET', url });
      expect([url, waiting.statusCode, waiting.headers['content-type']]).toEqual([url, 404, 'text/html; charset=utf-8']);
      expect(waiting.body).toMatch(/<meta http-equiv="refresh" content="\d+">/);
      expect(waiting.body).not.toContain('<p');
    }
    expect((await host.app.inject({ method: 'GET', url: '/overlay/alerts?debug=1' })).body).toContain('enable its plugin in the settings page');
    const asset = await host.app.inject({ method: 'GET', url: '/assets/app-1234.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await host.app.inject({ method: 'GET', url: '/assets/../index.html' })).statusCode).not.toBe(200);
  });
});

describe('a failing component', () => {
  it('makes /health answer 503 naming it, and a 5xx without details', async () => {
    const broken = await openTestApp('embedded');
    await broken.pipeline.store.close();
    const health = await broken.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ status: 'fail', failing: ['storage'] });
    const failed = await broken.app.inject({ method: 'GET', url: '/api/sessions', headers: broken.admin });
    // The admin token was cached before the store closed; the listing itself fails.
    expect(failed.statusCode).toBe(500);
    expect(failed.json()).toEqual({ code: 'INTERNAL', message: 'internal error; the host log has the details' });
    await broken.app.close();
    await broken.plugins.close();
  });
});

describe('a lost admin token', () => {
  it('is replaced by a new one: the old token and every settings session stop working', async () => {
    const login = await host.app.inject({ method: 'POST', url: '/api/auth/login', payload: { token: host.adminToken }, remoteAddress: '10.1.1.1' });
    const session = login.cookies.find((entry) => entry.name === 'ttlp_session')!.value;
    const fresh = await host.tokens.resetAdminToken();
    expect(fresh).toMatch(/^ttlp_admin_/);
    expect((await host.app.inject({ method: 'GET', url: '/api/plugins', headers: host.admin })).statusCode).toBe(401);
    expect((await host.app.inject({ method: 'GET', url: '/api/plugins', cookies: { ttlp_session: session } })).statusCode).toBe(401);
    expect((await host.app.inject({ method: 'GET', url: '/api/plugins', headers: { authorization: `Bearer ${fresh}` } })).statusCode).toBe(200);
    // Overlay URLs keep working: OBS scenes are not broken by a new admin token.
    const { token } = await host.tokens.overlayToken('alerts/alerts');
    expect((await host.tokens.authenticate({ headers: {}, query: { token } } as never))?.kind).toBe('overlay');
  });
});
