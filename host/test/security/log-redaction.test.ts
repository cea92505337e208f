/** The logger's redaction (host/src/log.ts): secret fields by name, secrets in any text by shape. */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger, maskSecrets, REDACTED, type Logger } from '../../src/log.ts';

/** A logger writing into an array of lines (JSON, or pretty). */
function capture(pretty = false): { log: Logger; lines: string[]; text: () => string } {
  const destination = new PassThrough();
  const lines: string[] = [];
  let buffer = '';
  destination.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const complete = buffer.split('\n');
    buffer = complete.pop()!;
    lines.push(...complete);
  });
  return { log: createLogger({ level: 'trace', pretty, destination }), lines, text: () => lines.join('\n') + buffer };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

const ADMIN = 'ttlp_admin_Q2xh1yX9pPz8vZfA0b9c8d7e6f5g4h3i2j1k0lMnOpQ';
const OVERLAY = 'ttlp_ov_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo';
const SESSION_ID = '3b241101-e2bb-4255-8caf-4136c566a962';

describe('log redaction', () => {
  it('censors secret fields by name at any depth, in arrays too, and keeps the stream session id', async () => {
    const { log, lines } = capture();
    log.info(
      {
        token: 'plain-token-value',
        password: 'hunter2-password',
        secret: 'webhook-signing-secret',
        EULER_API_KEY: 'euler-key-value',
        eulerApiKey: 'euler-key-value-2',
        tiktokSessionId: 'tiktok-cookie-value',
        adminToken: 'admin-token-value',
        headers: { authorization: 'Basic dXNlcjpwYXNz', cookie: 'ttlp_session=abc', 'set-cookie': 'ttlp_session=def' },
        nested: { config: { password: 'deep-password' } },
        deeper: { a: { b: { c: [{ webhook: { secret: 'deepest-secret' } }] } } },
        sessionId: SESSION_ID,
      },
      'fields',
    );
    await flush();
    const entry = JSON.parse(lines[0]!);
    for (const field of ['token', 'password', 'secret', 'EULER_API_KEY', 'eulerApiKey', 'tiktokSessionId', 'adminToken']) expect(entry[field]).toBe(REDACTED);
    expect(entry.headers).toEqual({ authorization: REDACTED, cookie: REDACTED, 'set-cookie': REDACTED });
    expect(entry.nested.config.password).toBe(REDACTED);
    expect(entry.deeper.a.b.c[0].webhook.secret).toBe(REDACTED);
    expect(entry.sessionId).toBe(SESSION_ID);
    for (const value of ['plain-token-value', 'hunter2', 'webhook-signing-secret', 'euler-key-value', 'tiktok-cookie-value', 'dXNlcjpwYXNz', 'deep-password', 'deepest-secret'])
      expect(lines[0]).not.toContain(value);
  });

  it('masks URL credentials, token query parameters, bearer values and ttlp tokens in messages and any field', async () => {
    const { log, lines } = capture();
    log.info({ store: 'postgres://app:s3cret-pw@db:5432/ttlp' }, 'bus redis (redis://:r3dis-pw@cache:6379)');
    log.debug({ path: `/overlay/alerts?token=${OVERLAY}&color=red` }, 'closed');
    log.warn({ deep: { list: [{ header: `Bearer ${ADMIN}` }] } }, `token ${ADMIN} seen`);
    await flush();
    const text = lines.join('\n');
    for (const secret of ['s3cret-pw', 'r3dis-pw', OVERLAY, ADMIN, ADMIN.slice('ttlp_admin_'.length)]) expect(text).not.toContain(secret);
    expect(JSON.parse(lines[0]!)).toMatchObject({ store: 'postgres://app:***@db:5432/ttlp', msg: 'bus redis (redis://:***@cache:6379)' });
    expect(JSON.parse(lines[1]!).path).toBe('/overlay/alerts?token=***&color=red');
    expect(JSON.parse(lines[2]!).msg).toBe('token [redacted admin token] seen');
  });

  it('serializes errors without the request bytes, query parameters, URL input or secret fields they carry', async () => {
    const { log, lines } = capture();
    const query = Object.assign(new Error(`Failed query: insert into "api_tokens" ("scope") values ($1)\nparams: {"widget":"alerts","token":"${OVERLAY}"}`), {
      query: 'insert into "api_tokens" ("scope") values ($1)',
      params: [`{"widget":"alerts","token":"${OVERLAY}"}`],
    });
    const parser = Object.assign(new Error('Parse Error: Invalid character in Content-Length'), {
      code: 'HPE_INVALID_CONTENT_LENGTH',
      rawPacket: Buffer.from(`GET /x HTTP/1.1\r\nAuthorization: Bearer ${ADMIN}\r\n`),
    });
    let invalidUrl: unknown;
    try {
      new URL('redis://:url-input-pw@[bad');
    } catch (error) {
      invalidUrl = error;
    }
    log.error({ err: query }, 'request failed');
    log.error({ err: parser }, 'client error');
    log.error({ err: new Error('wrapper', { cause: invalidUrl }) }, 'bus');
    log.error({ err: invalidUrl }, 'bus');
    log.error({ err: Object.assign(new Error('sign server refused'), { apiKey: 'euler-key-on-error', status: 401 }) }, 'sign');
    await flush();
    const text = lines.join('\n');
    for (const secret of [OVERLAY, ADMIN, 'url-input-pw', 'euler-key-on-error']) expect(text).not.toContain(secret);
    expect(JSON.parse(lines[4]!).err).toMatchObject({ apiKey: REDACTED, status: 401 });
    const first = JSON.parse(lines[0]!);
    expect(first.err.message).toContain('Failed query: insert into "api_tokens"');
    expect(first.err.message).toContain(`params: ${REDACTED}`);
    expect(first.err.params).toBeUndefined();
    expect(JSON.parse(lines[1]!).err).toMatchObject({ code: 'HPE_INVALID_CONTENT_LENGTH', message: 'Parse Error: Invalid character in Content-Length' });
    expect(JSON.parse(lines[3]!).err).toMatchObject({ code: 'ERR_INVALID_URL' });
  });

  it('leaves the objects it logs untouched, and copies nothing when there is no secret', async () => {
    const { log, lines } = capture();
    const fields = { plugin: 'alerts', settings: { url: 'https://hooks.example/x', secret: 'kept-in-the-object' } };
    log.info(fields, 'configured');
    await flush();
    expect(fields.settings.secret).toBe('kept-in-the-object');
    expect(JSON.parse(lines[0]!).settings).toEqual({ url: 'https://hooks.example/x', secret: REDACTED });
  });

  it('logs a request as method, masked URL and address: no headers', async () => {
    const { log, lines } = capture();
    log.info(
      { req: { method: 'GET', url: `/ws/overlay/alerts?token=${OVERLAY}`, ip: '127.0.0.1', headers: { authorization: `Bearer ${ADMIN}`, cookie: 'ttlp_session=x' } } },
      'incoming request',
    );
    await flush();
    expect(JSON.parse(lines[0]!).req).toEqual({ method: 'GET', url: '/ws/overlay/alerts?token=***', remoteAddress: '127.0.0.1' });
  });

  it('masks the same way in the human-readable format', async () => {
    const { log, text } = capture(true);
    log.info({ token: 'field-token' }, `listening; overlay http://127.0.0.1:8787/overlay/chat?token=${OVERLAY}; db postgres://u:pretty-pw@db/x`);
    await flush();
    expect(text()).toContain('listening; overlay');
    for (const secret of [OVERLAY, 'pretty-pw', 'field-token']) expect(text()).not.toContain(secret);
  });

  it('never lets a password in a URL through, wherever the URL sits in a log entry', async () => {
    const { log, lines } = capture();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('postgres', 'postgresql', 'redis', 'rediss', 'https', 'http'),
        fc.stringMatching(/^[a-z0-9_.-]{0,12}$/),
        fc.stringMatching(/^[A-Za-z0-9!$%&()*+,;=._~-]{6,24}$/),
        fc.constantFrom('msg', 'field', 'nested', 'error'),
        async (scheme, user, password, where) => {
          const secret = `Pw${password}`;
          const url = `${scheme}://${user}:${secret}@example.internal:1234/db`;
          lines.length = 0;
          if (where === 'msg') log.info(`connecting to ${url} now`);
          else if (where === 'field') log.info({ url }, 'connecting');
          else if (where === 'nested') log.info({ backends: { storage: { location: url } } }, 'open');
          else log.error({ err: new Error(`cannot reach ${url}`) }, 'failed');
          await flush();
          expect(lines.join('\n')).not.toContain(secret);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('maskSecrets', () => {
  it.each([
    ['postgres://app:s3cret@db:5432/ttlp', 'postgres://app:***@db:5432/ttlp'],
    ['redis://:pw@cache:6379/0', 'redis://:***@cache:6379/0'],
    ['postgres://app:pa/ss@db/ttlp', 'postgres://app:***@db/ttlp'],
    ['GET /overlay/alerts?token=abc&x=1', 'GET /overlay/alerts?token=***&x=1'],
    ['https://hooks.example/x?access_token=abc', 'https://hooks.example/x?access_token=***'],
    [`Authorization: Bearer ${ADMIN}`, 'Authorization: Bearer ***'],
    [`cookie ttlp_session_${'a'.repeat(43)}`, 'cookie [redacted session token]'],
  ])('masks %s', (text, masked) => {
    expect(maskSecrets(text)).toBe(masked);
  });

  it.each([
    'http://127.0.0.1:8787/',
    'http://[::1]:8787/overlay/alerts',
    `session ${SESSION_ID}: 12 received, 12 stored`,
    'storage pglite (/data/pglite), bus memory',
    'authentication required: log in, or send "Authorization: Bearer <token>"',
  ])('leaves %s alone', (text) => {
    expect(maskSecrets(text)).toBe(text);
  });
});
