/**
 * API fuzzing: random requests to every route the app registers — listed from the app itself,
 * so a new route is fuzzed without touching this file — on the embedded back-end with the
 * first-party plugins running and the WebSocket routes mounted, as `ttlp start` serves them.
 * Bodies (any JSON, huge, deeply nested, wrong types, bytes that are not JSON under a JSON
 * content type), path parameters, query strings and headers (content types, authorization
 * values, cookies) are random, with and without a valid principal. No answer may be a 5xx, and
 * every 4xx is JSON with a string `code`. `FUZZ_SEED` replays a run.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '@ttlp/sdk';
import { createLogger } from '../log.ts';
import { LiveFeed, OverlayHub } from '../overlay-hub/index.ts';
import { fakeOverlaysDir, openTestApp, type TestApp } from '../../test/support/host-app.ts';
import { buildApp } from './app.ts';
import { LoginLimiter } from './auth.ts';

const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

interface Route {
  method: string;
  url: string;
}

/**
 * Every route of the app, from `printRoutes()`: a tree of path pieces, indented four columns per
 * level, a line ending in the methods where a route ends. (The flattened `commonPrefix: false`
 * form drops the prefix of a wildcard, `/assets/*`.)
 */
function registeredRoutes(app: FastifyInstance): Route[] {
  const routes: Route[] = [];
  const pieces: string[] = [];
  for (const line of app.printRoutes().split('\n')) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(.+)$/u.exec(line);
    if (!match) continue;
    const depth = [...match[1]!].length / 4;
    const methods = / \(([A-Z]+(?:, [A-Z]+)*)\)(?: \{.*\})?$/.exec(match[2]!);
    pieces.length = depth;
    // A parametric piece that several routes name differently reads ":id|:widget".
    const piece = methods ? match[2]!.slice(0, methods.index) : match[2]!;
    pieces[depth] = piece === '(empty root node)' ? '' : piece.replace(/(:\w+)(\|:\w+)+/g, '$1');
    if (methods) for (const method of methods[1]!.split(', ')) routes.push({ method, url: pieces.join('') });
  }
  return routes;
}

let host: TestApp;
let app: FastifyInstance;
let hub: OverlayHub;
let feed: LiveFeed;
/** The host's error log (5xx details), for the failure messages. */
const errorLog: string[] = [];

/** Real principals and identifiers, so the fuzzer gets past authentication and lookups. */
const known = {
  bearers: [] as string[],
  sessionCookie: '',
  ids: [] as string[],
};

beforeAll(async () => {
  const overlaysDir = fakeOverlaysDir();
  host = await openTestApp('embedded', { overlaysDir });
  const errors = new PassThrough();
  errors.on('data', (chunk: Buffer) => errorLog.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const log = createLogger({ level: 'error', destination: errors, pretty: false });
  const consumer = `${host.pipeline.consumer}-fuzz`;
  hub = new OverlayHub({ bus: host.pipeline.bus, log, consumer, blockMs: 50 });
  feed = new LiveFeed({ bus: host.pipeline.bus, log, consumer, blockMs: 50 });
  await Promise.all([hub.start(), feed.start()]);
  // The app as `ttlp start` builds it (server.ts), sockets included, over the test app's services.
  app = await buildApp({
    store: host.pipeline.store,
    bus: host.pipeline.bus,
    log,
    tokens: host.tokens,
    metrics: host.metrics,
    ingest: host.ingest,
    plugins: host.plugins,
    overlaysDir,
    pseudonymizationSecret: randomBytes(48).toString('base64'),
    loginLimiter: new LoginLimiter(20, 60_000),
    sockets: { hub, feed },
  });

  const admin = { authorization: `Bearer ${host.adminToken}` };
  const api = await app.inject({ method: 'POST', url: '/api/tokens', headers: admin, payload: { kind: 'api', name: 'fuzz' } });
  const overlay = await host.tokens.overlayToken('alerts/alerts');
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { token: host.adminToken } });
  const test = await app.inject({ method: 'POST', url: '/api/events/test', headers: admin, payload: { eventType: 'CHAT', payload: { message: 'hi' } } });
  known.bearers = [host.adminToken, api.json().token as string, overlay.token];
  known.sessionCookie = login.cookies.find((cookie) => cookie.name === 'ttlp_session')!.value;
  known.ids = [api.json().tokenId as string, overlay.tokenId, test.json().sessionId as string, test.json().eventId as string];
});

afterAll(async () => {
  await Promise.all([feed?.close(), hub?.close()]);
  await app?.close();
  await host?.close();
});

// ——— what requests are made of ———

const printable = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength });

/** Values that mean something to some route, or to a parser. */
const INTERESTING = [
  '',
  '0',
  '-1',
  '1e309',
  '99999999999999999999',
  'NaN',
  'true',
  'null',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'prototype',
  '..',
  '../..',
  '../index.html',
  'alerts',
  'chat',
  'goals',
  'leaderboard',
  'counters',
  'rules',
  'webhook',
  'host',
  'CHAT',
  'GIFT',
  'RAW',
  '00000000-0000-4000-8000-000000000000',
  '00000000-0000-0000-0000-000000000000',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2016-12-31T23:59:60Z',
  '2026-11-25T18:00:00+23:59',
  '1970-01-01T00:00:00.000Z',
  Buffer.from(JSON.stringify(['0000-01-01', 'a'.repeat(64)])).toString('base64url'),
  Buffer.from(JSON.stringify(['-000001-01-01T00:00:00Z', 'f'.repeat(64)])).toString('base64url'),
  Buffer.from(JSON.stringify(['Tue', '0'.repeat(64)])).toString('base64url'),
  Buffer.from(JSON.stringify({ a: 1 })).toString('base64url'),
  'x'.repeat(600),
];

const stringValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...INTERESTING) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((index) => known.ids[index] ?? '') },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.constant('y'.repeat(20_000)) },
);

const KEYS = ['token', 'type', 'userId', 'from', 'to', 'limit', 'cursor', 'streamId', 'speed', 'eventType', 'payload', 'user', 'config', 'grant', 'kind', 'name', 'event', 'message', 'widget', 'id', '__proto__', 'constructor'];
const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) });

/** JSON built from the keys routes read, nested a few levels, with values of every type. */
const structured: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    stringValue,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
})).value;

const deepNesting = fc.integer({ min: 100, max: 20_000 }).chain((depth) =>
  fc.constantFrom('['.repeat(depth) + ']'.repeat(depth), '{"config":'.repeat(depth) + '{}' + '}'.repeat(depth), '{"a":['.repeat(depth) + ']}'.repeat(depth)),
);

/** Deep nesting where some route takes any JSON: a RAW event's data, a plugin's settings, an event for a dry run. */
const deepInside = fc
  .tuple(
    fc.constantFrom(
      (deep: string) => `{"eventType":"RAW","payload":{"rawType":"WebcastDeep","data":${deep}}}`,
      (deep: string) => `{"eventType":"CHAT","payload":{"message":"hi","emotes":${deep}}}`,
      (deep: string) => `{"eventType":"RAW","payload":{"rawType":"WebcastDeep","data":${deep}},"config":${deep}}`,
      (deep: string) => `{"config":{"rules":${deep}}}`,
      (deep: string) => `{"config":{"x":${deep}}}`,
      (deep: string) => `{"grant":${deep}}`,
    ),
    fc.constantFrom(64, 1000, 5000, 20_000),
  )
  .map(([template, depth]) => template('['.repeat(depth) + ']'.repeat(depth)));

const dateTime = fc.oneof(
  { weight: 3, arbitrary: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()) },
  fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2016-12-31T23:59:60Z', '2026-11-25T18:00:00+23:59', '1970-01-01T00:00:00.000Z', '2026-11-25T18:00:00Z'),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((date) => date.toISOString()),
);

/** Cursors of the events listing: base64url JSON `[timestamp, eventId]`, well-formed or not quite. */
const cursor = fc
  .tuple(fc.oneof(dateTime, stringValue), fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), stringValue))
  .map((pair) => Buffer.from(JSON.stringify(pair)).toString('base64url'));

const someBearer = fc.integer({ min: 0, max: 2 }).map((index) => known.bearers[index] ?? '');

/**
 * Values of the right shape for the fields the routes read (query parameters and body members),
 * mixed with wrong ones: enough of them valid together to get past validation to the handlers.
 */
const FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  token: fc.oneof(someBearer, stringValue),
  type: fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.array(fc.constantFrom(...EVENT_TYPES, 'NOPE'), { maxLength: 3 })),
  userId: fc.oneof(fc.stringMatching(/^[0-9]{1,20}$/), stringValue),
  uniqueId: stringValue,
  from: dateTime,
  to: dateTime,
  limit: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 500 }) }, fc.integer({ min: -5, max: 2000 }), fc.constantFrom(1.5, 0)),
  cursor,
  streamId: stringValue,
  speed: fc.oneof(fc.double({ noNaN: true }), fc.integer(), fc.constantFrom(0, 1e-300, 1000, 1001)),
  eventType: fc.constantFrom(...EVENT_TYPES, 'NOPE'),
  payload: fc.dictionary(
    fc.constantFrom('message', 'giftId', 'giftName', 'giftCount', 'coins', 'likeCount', 'totalLikeCount', 'displayType', 'rawType', 'data', 'viewerCount', 'emoteId', 'battleStatus', 'participants', 'reason', 'stack'),
    fc.oneof(structured, fc.integer({ min: 0, max: 1_000_000 }), fc.string({ maxLength: 30 })),
    { maxKeys: 6 },
  ),
  user: fc.record({ userId: fc.stringMatching(/^[0-9]{1,20}$/), uniqueId: stringValue, displayName: stringValue }, { requiredKeys: [] }),
  config: fc.dictionary(fc.oneof(key, fc.constantFrom('minCoins', 'rules', 'url', 'secret', 'events', 'dryRun', 'templates', 'goals', 'maxLines')), structured, { maxKeys: 4 }),
  grant: fc.array(fc.oneof(fc.constantFrom('kv', 'events:*', 'events:CHAT', 'overlay:alerts', 'http:https://**', 'http:http://127.0.0.1/**'), stringValue), { maxLength: 5 }),
  kind: fc.constantFrom('api', 'admin', 'overlay', 'session'),
  name: stringValue,
  event: structured,
};

/** Sets of fields the routes' bodies take together (a login, a test event, a grant…), or any few. */
const SHAPES = [['token'], ['eventType'], ['eventType', 'payload'], ['eventType', 'user'], ['eventType', 'payload', 'config'], ['event'], ['kind', 'name'], ['grant'], ['config'], ['speed'], ['userId'], ['uniqueId']];

/** An object of such fields, as JSON. */
const plausibleBody = fc
  .oneof({ weight: 2, arbitrary: fc.constantFrom(...SHAPES) }, { weight: 1, arbitrary: fc.subarray(Object.keys(FIELDS), { minLength: 1, maxLength: 4 }) })
  .chain((names) => fc.tuple(...names.map((name) => FIELDS[name]!)).map((values) => JSON.stringify(Object.fromEntries(names.map((name, index) => [name, values[index]])))));

const QUERY_FIELDS = ['type', 'userId', 'from', 'to', 'limit', 'cursor', 'streamId', 'token', 'speed'];

/** A query string of 1–4 such fields (arrays as repeated parameters). */
const plausibleQuery = fc.subarray(QUERY_FIELDS, { minLength: 1, maxLength: 4 }).chain((names) =>
  fc.tuple(...names.map((name) => FIELDS[name]!)).map((values) =>
    names
      .flatMap((name, index) => {
        const value = values[index];
        return (Array.isArray(value) ? value : [value]).map((item) => `${name}=${encodeURIComponent(String(item))}`);
      })
      .join('&'),
  ),
);

const body = fc.oneof(
  { weight: 4, arbitrary: plausibleBody },
  { weight: 1, arbitrary: deepInside },
  { weight: 4, arbitrary: structured.map((value) => JSON.stringify(value) ?? 'null') },
  { weight: 2, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '{"a":1,}', 'NaN', '"unterminated', '{"token":', '\u0000', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}') },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: fc.constantFrom(200_000, 300_000).map((size) => JSON.stringify({ config: { text: 'z'.repeat(size) } })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0xff, 0xfe, 0x7b, 0x00]), Buffer.from('{"token":"\udc00"}'), Buffer.from([0xc0, 0xaf])) },
);

const contentType = fc.oneof(
  { weight: 5, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16le',
      'application/json; charset=latin1',
      'application/json;',
      'APPLICATION/JSON',
      'text/plain',
      'text/html',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=----x',
      'application/octet-stream',
      ';;;',
      'application/json, text/plain',
      '*/*',
    ),
  },
  { weight: 1, arbitrary: printable(60) },
);

const authorization = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: fc.constantFrom(0, 0, 1, 2).map((index) => `Bearer ${known.bearers[index]}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('Bearer', 'Bearer ', 'bearer  x', 'Basic Zm9vOmJhcg==', 'Bearer ttlp_admin_', 'Bearer ttlp_ov_%', `Bearer ${'a'.repeat(10_000)}`, 'Bearer \t x'),
  },
  { weight: 1, arbitrary: printable(80) },
);

const cookie = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constant('ttlp_session=').map((name) => `${name}${known.sessionCookie}`) },
  { weight: 1, arbitrary: fc.constantFrom('ttlp_session=', 'ttlp_session=%', 'ttlp_session=%zz', 'ttlp_session="', `ttlp_session=${'x'.repeat(5000)}`, 'a=b; ttlp_session=; ttlp_session=c', ';;=;') },
  { weight: 1, arbitrary: printable(80) },
);

const extraHeaders = fc.record(
  {
    accept: fc.constantFrom('*/*', 'application/json', 'text/html', '', 'x/y;q=abc'),
    range: fc.constantFrom('bytes=0-1', 'bytes=abc', 'bytes=99999999-', 'bytes=-0', 'bytes=1-0,5-4'),
    'if-none-match': fc.constantFrom('*', '"abc"', 'W/"x", garbage'),
    'if-modified-since': fc.constantFrom('yesterday', 'Thu, 01 Jan 1970 00:00:00 GMT'),
    'accept-encoding': fc.constantFrom('gzip', 'br;q=abc', '*'),
    host: fc.constantFrom('localhost', 'evil.example', '[::1]:8787', 'a b', ''),
    upgrade: fc.constantFrom('websocket', 'h2c'),
    'x-forwarded-for': fc.constantFrom('1.2.3.4', 'not an address'),
  },
  { requiredKeys: [] },
);

/** Path parameters that name something: widgets, plugins, the ids of tokens, a session and an event. */
const knownPathValue = fc.oneof(
  fc.constantFrom('alerts', 'chat', 'goals', 'leaderboard', 'counters', 'rules', 'webhook', 'nope'),
  fc.integer({ min: 0, max: 3 }).map((index) => known.ids[index] ?? ''),
);

/** A path parameter's value, encoded as a client would (or not: a few raw percent signs). */
const pathValue = fc.oneof(
  { weight: 3, arbitrary: knownPathValue },
  { weight: 4, arbitrary: stringValue.map((value) => encodeURIComponent(value ?? '')) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%c0%af', '%2e%2e', '..%2f..%2fetc%2fpasswd', '%00') },
);

const query = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 4, arbitrary: plausibleQuery },
  {
    weight: 5,
    arbitrary: fc
      .array(fc.tuple(key, fc.oneof(stringValue, fc.array(stringValue, { maxLength: 3 }))), { maxLength: 5 })
      .map((pairs) =>
        pairs
          .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((item) => `${encodeURIComponent(name)}=${encodeURIComponent(item ?? '')}`))
          .join('&'),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%', 'a=%zz', 'type=CHAT&type=GIFT&type=NOPE', 'limit=1e3', 'limit=-1', 'limit=0x10', 'a[b]=1&a[c]=2', '&&&=&', `token=${'t'.repeat(600)}`, 'cursor=%7B%7D'),
  },
);

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload: string | Buffer | undefined;
}

/** The pieces of a request; `careful` ones are mostly valid, to reach the handlers behind validation. */
function partsFor(route: Route, careful: boolean) {
  const params = route.url.split('/').filter((piece) => piece.startsWith(':') || piece === '*');
  const param = careful ? knownPathValue : pathValue;
  return fc.record({
    values: fc.tuple(...params.map((piece) => (piece === '*' ? fc.array(param, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/')) : param))),
    query: careful ? fc.oneof(fc.constant(''), plausibleQuery) : query,
    authorization: careful ? fc.oneof(fc.constant(`Bearer ${known.bearers[0]}`), fc.constant(undefined)) : authorization,
    cookie: careful ? fc.constant(`ttlp_session=${known.sessionCookie}`) : cookie,
    contentType: careful ? fc.constant('application/json') : contentType,
    extra: careful ? fc.constant({}) : extraHeaders,
    body: fc.option(careful ? plausibleBody : body, { freq: 4 }),
  });
}

function requestFor(route: Route): fc.Arbitrary<FuzzRequest> {
  return fc
    .boolean()
    .chain((careful) => partsFor(route, careful))
    .map(({ values, query: search, authorization: auth, cookie: cookieValue, contentType: type, extra, body: payload }) => {
      let index = 0;
      const pathname = route.url
        .split('/')
        .map((piece) => (piece.startsWith(':') || piece === '*' ? values[index++] : piece))
        .join('/');
      const headers: Record<string, string> = { ...extra };
      if (auth !== undefined) headers.authorization = auth;
      if (cookieValue !== undefined) headers.cookie = cookieValue;
      if (type !== undefined) headers['content-type'] = type;
      return { method: route.method, url: search ? `${pathname}?${search}` : pathname, headers, payload: route.method === 'HEAD' ? undefined : (payload ?? undefined) };
    });
}

/** The years of the timestamps in a URL's `cursor` parameters (base64url JSON `[timestamp, eventId]`). */
function cursorYears(url: string): number[] {
  const search = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  return new URLSearchParams(search).getAll('cursor').flatMap((value) => {
    try {
      const [timestamp] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown[];
      return typeof timestamp === 'string' ? [new Date(timestamp).getUTCFullYear()] : [];
    } catch {
      return [];
    }
  });
}

function describeRequest(request: FuzzRequest): string {
  const payload = request.payload === undefined ? '' : String(request.payload).slice(0, 300);
  return `${request.method} ${request.url.slice(0, 300)} ${JSON.stringify(request.headers).slice(0, 400)} ${payload}`;
}

/** Widget pages (as fastify names their routes): their 404 is a page for OBS, not JSON. */
const WIDGET_PAGES = new Set(['/overlay/:pluginId', '/overlay/:pluginId/:widgetId']);

describe('API fuzzing', () => {
  it('lists every route the app registers, the WebSocket routes included', () => {
    const routes = registeredRoutes(app).map((route) => `${route.method} ${route.url}`);
    for (const expected of [
      'GET /',
      'GET /health',
      'GET /metrics',
      'POST /api/auth/login',
      'GET /api/sessions/:id/events',
      'POST /api/sessions/:id/replay',
      'PUT /api/plugins/:id/config',
      'POST /api/plugins/:id/dry-run',
      'POST /api/events/test',
      'DELETE /api/tokens/:id',
      // A parametric piece that several routes share is listed by one of its names.
      'POST /api/overlays/:pluginId/:widgetId/regenerate',
      'POST /api/overlays/:pluginId/:widgetId/options',
      'GET /overlay/:pluginId',
      'GET /overlay/:pluginId/:widgetId',
      'GET /overlay/:pluginId/:widgetId/widget.js',
      'GET /assets/*',
      'GET /ws/overlay/:pluginId',
      'GET /ws/overlay/:pluginId/:widgetId',
      'GET /ws/live',
    ])
      expect(routes).toContain(expected);
    // Every registered route is listed: as many as fastify says it has.
    for (const route of registeredRoutes(app)) expect(app.hasRoute({ method: route.method as 'GET', url: route.url }), `${route.method} ${route.url}`).toBe(true);
  });

  it('answers random requests to every route without a 5xx, and every 4xx as JSON with a code', async () => {
    const routes = registeredRoutes(app);
    expect(routes.length).toBeGreaterThan(20);
    /** Answers per route and status, printed with FUZZ_REPORT=1 to see what the runs reached. */
    const seen = new Map<string, Map<string, number>>();
    for (const route of routes) {
      const statuses = new Map<string, number>();
      seen.set(`${route.method} ${route.url}`, statuses);
      await fc.assert(
        fc.asyncProperty(requestFor(route), async (request) => {
          const logged = errorLog.length;
          const response = await app.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, payload: request.payload });
          const json = response.headers['content-type']?.toString().startsWith('application/json');
          const code = response.statusCode >= 400 && json ? `:${String((JSON.parse(response.body || '{}') as { code?: unknown }).code)}` : '';
          statuses.set(`${response.statusCode}${code}`, (statuses.get(`${response.statusCode}${code}`) ?? 0) + 1);
          const what = `${describeRequest(request)}\n→ ${response.statusCode} ${response.body.slice(0, 300)}\n${errorLog.slice(logged).join('\n').slice(0, 2000)}`;
          expect(response.statusCode, what).toBeLessThan(500);
          if (response.statusCode === 404 && WIDGET_PAGES.has(route.url) && !json) {
            // A widget no running plugin has: OBS gets a blank page that asks again, never an error.
            expect(response.headers['content-type'], what).toMatch(/^text\/html/);
            if (request.method !== 'HEAD') expect(response.body, what).toMatch(/<meta http-equiv="refresh"/);
          } else if (response.statusCode >= 400 && request.method !== 'HEAD') {
            expect(response.headers['content-type'], what).toMatch(/^application\/json/);
            expect(typeof (response.json() as { code?: unknown }).code, what).toBe('string');
          }
        }),
        { numRuns: RUNS_PER_ROUTE, seed: SEED, endOnFailure: true },
      );
    }
    if (process.env.FUZZ_REPORT)
      for (const [route, statuses] of seen) console.log(route.padEnd(45), [...statuses].sort(([a], [b]) => a.localeCompare(b)).map(([status, count]) => `${status}×${count}`).join(' '));
  });

  it('refuses an events cursor whose timestamp the store cannot hold with 400', async () => {
    const sessionId = known.ids[2]!;
    for (const timestamp of ['0000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '+010000-01-01T00:00:00Z']) {
      const cursor = Buffer.from(JSON.stringify([timestamp, 'a'.repeat(64)])).toString('base64url');
      const request = { method: 'GET', url: `/api/sessions/${sessionId}/events?cursor=${cursor}`, headers: { authorization: `Bearer ${host.adminToken}` }, payload: undefined };
      expect(cursorYears(request.url).some((year) => year < 1 || year > 9999)).toBe(true);
      const response = await app.inject({ method: 'GET', url: request.url, headers: request.headers });
      expect(response.statusCode, timestamp).toBe(400);
    }
  });

  it('keeps the host answering after the fuzzing: health, the admin token, a test event', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ failing: [] });
    const sent = await app.inject({ method: 'POST', url: '/api/events/test', headers: { authorization: `Bearer ${host.adminToken}` }, payload: { eventType: 'FOLLOW' } });
    expect(sent.statusCode).toBe(202);
    // Bodies with __proto__ and constructor keys polluted nothing.
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});
