/**
 * No secret in the host's logs. A real `ttlp start` (JSON logs at debug level) is logged in to,
 * driven through admin routes with bearer tokens and a settings session, has its overlay and
 * live-feed sockets opened (overlay tokens in `?token=`), refuses a failed login, invalid
 * requests and tokens in the wrong place, and is stopped. Then no stdout log line — nor anything
 * on stderr besides the start banner, printed once — holds the admin token, an overlay token,
 * the session cookie or an API token. On the production back-end, the same holds for the
 * passwords in DATABASE_URL and REDIS_URL and for PSEUDONYMIZATION_SECRET.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestBackend, type TestBackend } from '../support/backends.ts';
import { repoRoot } from '../support/captures.ts';
import { BANNER, startHost, type HostProcess } from '../support/host-process.ts';
import { waitFor } from '../support/patience.ts';
import { endWithTest } from '../support/ttlp-process.ts';

interface Answer {
  status: number;
  body: unknown;
  setCookie: string | null;
}

async function call(host: HostProcess, method: string, route: string, options: { headers?: Record<string, string>; body?: unknown; raw?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.raw !== undefined || options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = options.raw ?? JSON.stringify(options.body);
  }
  const response = await fetch(`${host.url}${route}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: response.status, body: parsed, setCookie: response.headers.get('set-cookie') };
}

/** Opens a socket; resolves with 'open' (then closes it after a moment) or the refused status. */
function socket(url: string, headers: Record<string, string> = {}, send?: unknown): Promise<number | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      if (send !== undefined) ws.send(JSON.stringify(send));
      setTimeout(() => ws.close(), 200);
      resolve('open');
    });
    ws.once('unexpected-response', (_request, response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    ws.once('error', (error) => reject(error));
  });
}

/** An HTTP request Node's parser refuses, with a token in its URL and header. */
function malformedRequest(host: HostProcess, token: string): Promise<string> {
  const { hostname, port } = new URL(host.url);
  return new Promise((resolve) => {
    const client = net.connect(Number(port), hostname, () =>
      client.write(`GET /api/plugins?token=${token} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: nope\r\n\r\n`),
    );
    let answer = '';
    client.on('data', (chunk) => (answer += chunk.toString('utf8')));
    client.on('close', () => resolve(answer));
    client.on('error', () => resolve(answer));
  });
}

/** The JSON log lines of stdout (every stdout line must be one). */
/** Events the host logged as stored. */
const eventLines = (host: HostProcess) => host.stdout.match(/"eventType":/g)?.length ?? 0;

function logLines(stdout: string): string[] {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  for (const line of lines) expect(() => JSON.parse(line), `a stdout line that is not JSON: ${line.slice(0, 200)}`).not.toThrow();
  return lines;
}

/** stderr without the start banner, after checking it was printed exactly once. */
function stderrWithoutBanner(stderr: string): string {
  const banners = stderr.match(BANNER) ?? [];
  expect(banners).toHaveLength(1);
  expect(stderr.split('Settings page:')).toHaveLength(2);
  expect(stderr.split('Admin token:')).toHaveLength(2);
  return stderr.replace(banners[0]!, '\n');
}

/** The secrets that appear anywhere in `text`, by name; a token also counts without its `ttlp_…_` prefix. */
function leaked(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([, secret]) => text.includes(secret) || text.includes(secret.replace(/^ttlp_[a-z]+_/, '')))
    .map(([name]) => name);
}

describe('secrets in the logs of a full run (embedded back-end)', () => {
  let host: HostProcess;
  const secrets: Record<string, string> = {};
  let exitCode: number | null;

  beforeAll(async () => {
    host = await startHost({ args: ['--demo-rate', '50', '--log-level', 'debug'] });
    const ws = host.url.replace(/^http/, 'ws');
    expect(host.adminToken).toMatch(/^ttlp_admin_/);
    const admin = { authorization: `Bearer ${host.adminToken!}` };
    secrets.adminToken = host.adminToken!;
    for (const [widget, url] of Object.entries(host.overlayUrls)) secrets[`overlay token (${widget})`] = new URL(url).searchParams.get('token')!;
    expect(Object.keys(secrets)).toEqual(['adminToken', 'overlay token (host/counters)']);

    // A failed login, then the settings page's login: the session cookie.
    expect((await call(host, 'POST', '/api/auth/login', { body: { token: `${host.adminToken!}x` } })).status).toBe(401);
    const login = await call(host, 'POST', '/api/auth/login', { body: { token: host.adminToken } });
    expect(login.status).toBe(204);
    const session = /ttlp_session=([^;]+)/.exec(login.setCookie ?? '')![1]!;
    secrets.sessionCookie = session;
    const cookie = { cookie: `ttlp_session=${session}` };

    // An API token, used as bearer.
    const created = await call(host, 'POST', '/api/tokens', { headers: admin, body: { kind: 'api', name: 'secrets test' } });
    expect(created.status).toBe(201);
    secrets.apiToken = (created.body as { token: string }).token;
    const api = { authorization: `Bearer ${secrets.apiToken}` };

    // Admin routes, each kind of principal.
    const plugins = await call(host, 'GET', '/api/plugins/alerts', { headers: cookie });
    expect(plugins.status).toBe(200);
    const grant = (plugins.body as { requestedPermissions: string[] }).requestedPermissions;
    expect((await call(host, 'POST', '/api/plugins/alerts/enable', { headers: admin, body: { grant } })).status).toBe(200);
    expect((await call(host, 'GET', '/api/overlays', { headers: cookie })).status).toBe(200);
    expect((await call(host, 'GET', '/api/sessions', { headers: api })).status).toBe(200);
    expect((await call(host, 'GET', '/api/status', { headers: api })).status).toBe(200);
    expect((await call(host, 'POST', '/api/events/test', { headers: api, body: { eventType: 'FOLLOW' } })).status).toBe(202);

    // Invalid requests, and tokens where they are not accepted.
    expect((await call(host, 'GET', '/api/sessions/not-a-uuid/events', { headers: admin })).status).toBe(400);
    expect((await call(host, 'POST', '/api/events/test', { headers: api, raw: '{"eventType":' })).status).toBe(400);
    expect((await call(host, 'GET', `/api/plugins?token=${host.adminToken!}`)).status).toBe(401);
    const overlayToken = secrets['overlay token (host/counters)']!;
    expect((await call(host, 'GET', '/api/plugins', { headers: { authorization: `Bearer ${overlayToken}` } })).status).toBe(403);
    expect((await call(host, 'GET', `/nothing?token=${overlayToken}`)).status).toBe(404);
    expect(await malformedRequest(host, host.adminToken!)).toMatch(/^HTTP\/1\.1 400/);

    // Sockets: overlay tokens in the URL, the live feed with a bearer header and with the session cookie.
    expect(await socket(`${ws}/ws/overlay/host/counters?token=${overlayToken}`, {}, { type: 'resume', epoch: null, last: {} })).toBe('open');
    expect(await socket(`${ws}/ws/overlay/alerts/alerts?token=${overlayToken}`)).toBe(403);
    expect(await socket(`${ws}/ws/overlay/host/counters?token=${overlayToken}x`)).toBe(401);
    expect(await socket(`${ws}/ws/live`, api)).toBe('open');
    expect(await socket(`${ws}/ws/live`, cookie)).toBe('open');
    expect(await socket(`${ws}/ws/live?token=${host.adminToken!}`)).toBe(401);
    // A socket to the overlay page (not a socket route): @fastify/websocket logs the URL it closes.
    expect(await socket(`${ws}/overlay/host/counters?token=${overlayToken}`)).toBe('open');

    // A second of the demo's events (at 50 a second) in the log as well, however slow the machine.
    await waitFor(() => eventLines(host) >= 50, 'fifty demo events in the log');
    exitCode = await host.stop();
  });

  afterAll(async () => {
    await host?.stop();
  });

  it('stops cleanly after the run', () => {
    expect(exitCode, host.stderr).toBe(0);
  });

  it('writes no admin token, overlay token, session cookie or API token in any stdout log line', () => {
    const lines = logLines(host.stdout);
    // The run was logged: enough for the check to mean something.
    expect(lines.length).toBeGreaterThan(50);
    expect(lines.some((line) => line.includes('"level":20'))).toBe(true);
    expect(lines.some((line) => line.includes('failed settings login'))).toBe(true);
    expect(lines.some((line) => line.includes('overlay socket opened'))).toBe(true);
    const offending = lines.filter((line) => leaked(line, secrets).length > 0);
    expect(offending.map((line) => `${leaked(line, secrets).join(', ')}: ${line.slice(0, 300)}`)).toEqual([]);
  });

  it('masks the URL of the overlay page socket @fastify/websocket logs as closed', () => {
    const closed = logLines(host.stdout).find((line) => line.includes('no websocket handler'));
    expect(closed).toBeDefined();
    expect(JSON.parse(closed!).path).toBe('/overlay/host/counters?token=***');
  });

  it('prints the start banner once on stderr, and no secret anywhere else on it', () => {
    const rest = stderrWithoutBanner(host.stderr);
    expect(leaked(rest, secrets)).toEqual([]);
  });
});

describe('secrets in the logs of a full run (production back-end)', () => {
  const password = `canary-${Math.random().toString(36).slice(2)}-pw`;
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await createTestBackend('production');
  });

  afterAll(async () => {
    await backend?.dispose();
  });

  it('never prints the passwords of DATABASE_URL and REDIS_URL (the servers here accept any), nor the pseudonymization secret', async () => {
    const pseudonymizationSecret = randomBytes(48).toString('base64');
    const databaseUrl = new URL(backend.databaseUrl!);
    databaseUrl.password = password;
    const redisUrl = new URL(backend.env.REDIS_URL!);
    redisUrl.password = password;
    const host = await startHost({
      args: ['--demo-rate', '20', '--log-level', 'debug'],
      env: { ...backend.env, DATABASE_URL: databaseUrl.toString(), REDIS_URL: redisUrl.toString(), PSEUDONYMIZATION_SECRET: pseudonymizationSecret, LOG_LEVEL: 'debug' },
    });
    try {
      // A second of the demo's events (at 20 a second) in the log as well, however slow the machine.
      await waitFor(() => eventLines(host) >= 20, 'twenty demo events in the log');
      expect(await host.stop()).toBe(0);
      const lines = logLines(host.stdout);
      // The back-ends are named, with the password masked.
      expect(lines.some((line) => line.includes(`redis://:***@`))).toBe(true);
      expect(lines.some((line) => line.includes(`postgres://${databaseUrl.username}:***@`))).toBe(true);
      for (const secret of [password, pseudonymizationSecret]) {
        expect(host.stdout).not.toContain(secret);
        expect(host.stderr).not.toContain(secret);
      }
    } finally {
      await host.stop();
    }
  });
});

describe('secrets in what ttlp prints when a back-end URL is broken', () => {
  it.each([
    ['REDIS_URL', 'redis://:canary-redis-pw@[not-an-address:6379/0'],
    ['DATABASE_URL', 'postgres://ttlp:canary-db-pw@[not-an-address:5432/ttlp'],
    ['DATABASE_URL', 'postgres://ttlp:canary-db-pw@127.0.0.1:1/ttlp'],
  ])('never prints the password of a %s that cannot be used (%s)', async (name, url) => {
    const password = /:([^:@]+)@/.exec(url)![1]!;
    const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--no-node-snapshot', path.join(repoRoot, 'host/bin/ttlp.js'), 'health'], {
        // An empty folder: a developer's .env cannot change what the command reads.
        cwd: mkdtempSync(path.join(tmpdir(), 'ttlp-broken-url-')),
        env: { ...process.env, PSEUDONYMIZATION_SECRET: randomBytes(48).toString('base64'), [name]: url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      endWithTest(child);
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(run.code, run.output).not.toBe(0);
    expect(run.output).not.toContain(password);
  });
});
