/**
 * Every API route answers with a response schema of the host contract (`@ttlp/sdk/host-contract`),
 * the one the settings page is typed against: what the host sends fits it, and fastify's
 * serializer, which writes only what a schema declares, drops nothing the page reads.
 */
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventPage, PluginView } from '@ttlp/sdk/host-contract';
import rulesPackage from '../../../plugins/rules/package.json' with { type: 'json' };
import { fakeOverlaysDir, openTestApp, type TestApp } from '../../test/support/host-app.ts';
import { waitFor } from '../../test/support/patience.ts';
import { sessionEventPage } from '../store/browse.ts';

/** Every route the app registers, as fastify's onRoute hook sees it. */
const routes = vi.hoisted(() => [] as RouteOptions[]);

vi.mock('fastify', async (importOriginal) => {
  const fastify = await importOriginal<typeof import('fastify')>();
  // buildApp makes the instance itself: the hook goes on before any route is added.
  const withRouteLog = (options?: Parameters<typeof fastify.default>[0]) =>
    fastify.default(options).addHook('onRoute', (route) => {
      routes.push(route);
    });
  return { ...fastify, default: withRouteLog };
});

// ajv-formats is CommonJS; under ESM its callable sits on `default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv, ['date-time']);

let host: TestApp;

beforeAll(async () => {
  host = await openTestApp('embedded', { overlaysDir: fakeOverlaysDir() });
});

afterAll(async () => {
  await host?.close();
});

/** Pages and their files (static.ts) and WebSocket upgrades answer no JSON. */
const notAnApiAnswer = (route: RouteOptions) =>
  (route as { websocket?: boolean }).websocket === true || ['/', '/favicon.ico', '/overlay/:name', '/overlay/:pluginId/:widgetId', '/overlay/:pluginId/:widgetId/widget.js'].includes(route.url) || route.url.startsWith('/assets/');

const get = async (url: string) => host.app.inject({ method: 'GET', url, headers: host.admin });

/** The schema the route declared for this status. */
function declared(method: string, url: string, status: number): object {
  const route = routes.find((candidate) => candidate.method === method && candidate.url === url);
  const response = route?.schema?.response as Record<string, object> | undefined;
  const schema = response?.[String(status)];
  if (!schema) throw new Error(`${method} ${url} declares no ${status} response`);
  return schema;
}

describe('API response schemas', () => {
  it('are declared on every route: its answers, its 4xx and its 5xx', () => {
    const api = routes.filter((route) => route.method !== 'HEAD' && !notAnApiAnswer(route));
    expect(api.map((route) => route.url)).toEqual(expect.arrayContaining(['/health', '/metrics', '/api/status', '/api/plugins', '/api/auth/me']));
    const undeclared = api
      .filter((route) => {
        const statuses = Object.keys((route.schema?.response as Record<string, unknown> | undefined) ?? {});
        return !(statuses.some((status) => /^2\d\d$/.test(status)) && statuses.includes('4xx') && statuses.includes('5xx'));
      })
      .map((route) => `${String(route.method)} ${route.url}`);
    expect(undeclared).toEqual([]);
  });

  it('fit what the host answers', async () => {
    for (const url of ['/health', '/api/status', '/api/auth/me', '/api/plugins', '/api/streams', '/api/sessions', '/api/tokens', '/api/overlays']) {
      const answer = await get(url);
      expect([url, answer.statusCode]).toEqual([url, 200]);
      ajv.validate(declared('GET', url, 200), answer.json());
      expect([url, ajv.errorsText(ajv.errors)]).toEqual([url, 'No errors']);
    }
  });

  it('keep plugin settings and their schemas whole, however deep', async () => {
    const rules = [
      {
        id: 'big-gift',
        name: 'Big gift',
        events: ['GIFT'],
        condition: { and: [{ '>=': [{ var: 'payload.coins' }, 100] }, { in: ['Lion', { var: 'payload.giftName' }] }] },
        actions: [{ type: 'overlay', channel: 'rules', template: '{user.displayName} sent a Lion!' }],
      },
    ];
    const configured = await host.app.inject({ method: 'PUT', url: '/api/plugins/rules/config', headers: host.admin, payload: { config: { rules } } });
    expect(configured.statusCode).toBe(200);
    const listed = (await get('/api/plugins')).json<{ plugins: PluginView[] }>().plugins.find((plugin) => plugin.id === 'rules')!;
    expect(listed.configSchema).toEqual(rulesPackage.ttlp.config);
    expect(listed.config.rules).toEqual([expect.objectContaining(rules[0])]);
  });

  it('keep stored events whole: the events page is what the store holds', async () => {
    const sent = await host.app.inject({
      method: 'POST',
      url: '/api/events/test',
      headers: host.admin,
      payload: { eventType: 'CHAT', payload: { message: 'hi', emotes: [{ emoteId: '7', position: 0 }], language: 'en' } },
    });
    expect(sent.statusCode).toBe(202);
    const { sessionId, eventId } = sent.json<{ sessionId: string; eventId: string }>();
    const pageUrl = `/api/sessions/${sessionId}/events?limit=1000`;
    await waitFor(async () => (await get(pageUrl)).json<EventPage>().events.some((event) => event.eventId === eventId), 'the test event stored');
    const page = (await get(pageUrl)).json<EventPage>();
    expect(page.events).toEqual(await sessionEventPage(host.pipeline.store, sessionId, { limit: 1000 }));
    expect(page.events.find((event) => event.eventId === eventId)).toMatchObject({ payload: { emotes: [{ emoteId: '7', position: 0 }], language: 'en' } });
  });

  it('keep the details of an error', async () => {
    const refused = await host.app.inject({ method: 'PUT', url: '/api/plugins/rules/config', headers: host.admin, payload: { config: { rules: 'none' } } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'PLUGIN_CONFIG_INVALID', problems: [expect.stringContaining('/rules')] });
  });
});
