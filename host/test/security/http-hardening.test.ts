/**
 * HTTP hardening (host/src/api/app.ts, auth.ts, static.ts): security headers on the pages, the
 * API's answers and its errors alike; the pages' content security policy; API answers (tokens,
 * overlay URLs) kept out of caches; tokens accepted only where they belong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeOverlaysDir, openTestApp, type TestApp } from '../support/host-app.ts';

let host: TestApp;

beforeAll(async () => {
  const overlaysDir = fakeOverlaysDir();
  host = await openTestApp('embedded', { overlaysDir });
});

afterAll(async () => {
  await host?.close();
});

const EVERY_RESPONSE = {
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

describe('security headers', () => {
  it('are on pages, assets, API answers, errors and the open health check', async () => {
    const requests: Array<[string, string, Record<string, string>, number]> = [
      ['GET', '/', {}, 200],
      ['GET', '/overlay/host/counters?token=x', {}, 200],
      ['GET', '/assets/app-1234.js', {}, 200],
      ['GET', '/health', {}, 200],
      ['GET', '/api/plugins', host.admin, 200],
      ['GET', '/api/plugins', {}, 401],
      ['GET', '/api/sessions/nope/events', host.admin, 400],
      ['GET', '/nothing-here', {}, 404],
      ['GET', '/overlay/nope', {}, 404],
      ['GET', '/overlay/nope/main', {}, 404],
    ];
    for (const [method, url, headers, status] of requests) {
      const response = await host.app.inject({ method: method as 'GET', url, headers });
      expect(response.statusCode, url).toBe(status);
      expect(response.headers, url).toMatchObject(EVERY_RESPONSE);
    }
  });

  it('give the pages a CSP that allows only their own scripts and no framing by other sites', async () => {
    const directivesOf = async (url: string) => {
      const csp = (await host.app.inject({ method: 'GET', url, headers: { host: 'obs.local:8787' } })).headers['content-security-policy'] as string;
      return Object.fromEntries(csp.split(';').map((directive) => directive.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    };
    const settings = await directivesOf('/');
    expect(settings['default-src']).toEqual(["'self'"]);
    expect(settings['script-src']).toEqual(["'self'"]);
    expect(settings['frame-ancestors']).toEqual(["'self'"]);
    expect(settings['object-src']).toEqual(["'none'"]);
    expect(settings['base-uri']).toEqual(["'none'"]);
    expect(settings['connect-src']).toEqual(["'self'"]);
    // A widget page, the host's own included, runs sandboxed in an opaque origin: its script, its socket, nothing else of the host's.
    const widget = await directivesOf('/overlay/host/counters?token=x');
    expect(widget.sandbox).toEqual(['allow-scripts']);
    expect(widget['default-src']).toEqual(["'none'"]);
    expect(widget['script-src']).toEqual(['http://obs.local:8787/overlay/host/counters/widget.js']);
    expect(widget['connect-src']).toEqual(['ws://obs.local:8787/ws/overlay/host/counters']);
    expect(widget['frame-ancestors']).toEqual(["'self'"]);
    expect(widget['base-uri']).toEqual(["'none'"]);
  });

  it('keep API answers out of caches (they carry tokens and overlay URLs)', async () => {
    const created = await host.app.inject({ method: 'POST', url: '/api/tokens', headers: host.admin, payload: { kind: 'api', name: 'headers' } });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    expect((await host.app.inject({ method: 'GET', url: '/api/overlays', headers: host.admin })).headers['cache-control']).toBe('no-store');
    expect((await host.app.inject({ method: 'GET', url: '/metrics', headers: host.admin })).headers['cache-control']).toBe('no-store');
    expect((await host.app.inject({ method: 'GET', url: '/api/plugins' })).headers['cache-control']).toBe('no-store');
    expect((await host.app.inject({ method: 'GET', url: '/assets/app-1234.js' })).headers['cache-control']).toContain('immutable');
  });

  it('let the pages revalidate: never cached as immutable', async () => {
    for (const url of ['/', '/overlay/host/counters?token=x']) expect((await host.app.inject({ method: 'GET', url })).headers['cache-control'], url).toBe('no-cache');
  });

  it('set the settings session cookie httpOnly, SameSite=Strict, for the whole site', async () => {
    const login = await host.app.inject({ method: 'POST', url: '/api/auth/login', payload: { token: host.adminToken }, remoteAddress: '10.9.9.9' });
    expect(login.statusCode).toBe(204);
    const cookie = login.cookies.find((entry) => entry.name === 'ttlp_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(login.headers['cache-control']).toBe('no-store');
  });
});

describe('where tokens are accepted', () => {
  it('accepts admin and API tokens only as a bearer header or the session cookie, never from a URL', async () => {
    const api = (await host.app.inject({ method: 'POST', url: '/api/tokens', headers: host.admin, payload: { kind: 'api', name: 'in a url' } })).json().token as string;
    for (const token of [host.adminToken, api]) {
      expect((await host.app.inject({ method: 'GET', url: `/api/plugins?token=${token}` })).statusCode).toBe(401);
      expect((await host.app.inject({ method: 'GET', url: `/api/auth/me?token=${token}` })).statusCode).toBe(401);
      expect((await host.app.inject({ method: 'GET', url: '/api/plugins', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    }
  });

  it('keeps overlay tokens out of the admin API, wherever they are sent', async () => {
    const { token } = await host.tokens.overlayToken('alerts/alerts');
    for (const request of [
      { url: `/api/plugins?token=${token}`, headers: {} },
      { url: '/api/plugins', headers: { authorization: `Bearer ${token}` } },
      { url: '/api/plugins', headers: { cookie: `ttlp_session=${token}` } },
      { url: '/metrics', headers: { authorization: `Bearer ${token}` } },
    ]) {
      const response = await host.app.inject({ method: 'GET', ...request });
      expect(response.statusCode, request.url).toBe(403);
      expect(response.json().code).toBe('AUTH_FORBIDDEN');
    }
    // An overlay token is no login either.
    expect((await host.app.inject({ method: 'POST', url: '/api/auth/login', payload: { token }, remoteAddress: '10.9.9.8' })).statusCode).toBe(401);
  });
});

describe('input the host cannot carry', () => {
  it('is refused with 400 before any handler: NUL characters, nesting past 64 levels, date-times outside years 1–9999, infinite numbers', async () => {
    const json = { ...host.admin, 'content-type': 'application/json' };
    const sessionId = (await host.app.inject({ method: 'POST', url: '/api/events/test', headers: host.admin, payload: { eventType: 'FOLLOW' } })).json().sessionId as string;
    const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const refused = [
      await host.app.inject({ method: 'POST', url: '/api/events/test', headers: json, payload: JSON.stringify({ eventType: 'CHAT', payload: { message: 'a\u0000b' } }) }),
      await host.app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/events?userId=%00`, headers: host.admin }),
      await host.app.inject({ method: 'GET', url: '/api/plugins/%00', headers: host.admin }),
      await host.app.inject({ method: 'POST', url: '/api/events/test', headers: json, payload: `{"eventType":"RAW","payload":{"rawType":"WebcastDeep","data":${deep(5000)}}}` }),
      await host.app.inject({ method: 'PUT', url: '/api/plugins/rules/config', headers: json, payload: `{"config":{"rules":${deep(100)}}}` }),
      await host.app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/events?from=0000-01-01T00:00:00Z`, headers: host.admin }),
      await host.app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/events?to=2016-12-31T23:59:60Z`, headers: host.admin }),
      // ajv turns these into Infinity and then skips the bounds.
      await host.app.inject({ method: 'GET', url: '/api/sessions?limit=1e309', headers: host.admin }),
      await host.app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/events?limit=-Infinity`, headers: host.admin }),
    ];
    expect(refused.map((response) => [response.statusCode, response.json().code])).toEqual(Array(refused.length).fill([400, 'INVALID_REQUEST']));
    // Just inside the limits, the same requests work.
    expect((await host.app.inject({ method: 'POST', url: '/api/events/test', headers: json, payload: `{"eventType":"RAW","payload":{"rawType":"WebcastDeep","data":${deep(60)}}}` })).statusCode).toBe(202);
    expect((await host.app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/events?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z`, headers: host.admin })).statusCode).toBe(200);
  });
});
