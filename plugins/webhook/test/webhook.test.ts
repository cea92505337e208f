import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Json } from '@ttlp/sdk';
import type { HttpCall } from '@ttlp/sdk/sandbox';
import { createTestHost, makeEvent, type HttpFixture, type LogRecord, type TestHost, type TestHostOptions } from '@ttlp/sdk/testing';
import { captureEvents } from '../../../host/test/support/captures.ts';
import { HANG_MS } from '../../../host/test/support/patience.ts';
import { MAX_PENDING } from '../src/forwarder.ts';
import { resultOfError, resultOfStatus, retryDelayMs } from '../src/policy.ts';

const plugin = fileURLToPath(new URL('..', import.meta.url));

const RECEIVER = 'https://hooks.example.com/ttlp';
const SECRET = 'a-secret-of-24-characters';

const hosts: TestHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

/** A host with the plugin pointed at RECEIVER, answered by `receiver`. */
async function startHost(receiver: HttpFixture, config: Record<string, unknown> = {}, options: Partial<TestHostOptions> = {}) {
  const host = await createTestHost({
    plugin,
    config: { url: RECEIVER, secret: SECRET, ...config },
    http: { [`POST ${RECEIVER}`]: receiver },
    ...options,
  });
  hosts.push(host);
  return host;
}

const waitFor = (check: () => void) => vi.waitFor(check, { timeout: HANG_MS });
/** Waits until nothing is left to deliver. */
const settled = (host: TestHost) => waitFor(() => expect(host.kv.get('pending-ids')).toEqual([]));

const follow = () => makeEvent('FOLLOW', { displayType: 'pm_mt_msg_viewer_follow' });
const attemptOf = (call: HttpCall) => call.headers['x-ttlp-attempt'];
const eventIdOf = (call: HttpCall) => call.headers['x-ttlp-event-id'];

/** Checks the signature as a receiver would: HMAC-SHA256 of the raw body with the shared secret. */
function expectSigned(call: HttpCall, header = 'x-ttlp-signature', secret = SECRET) {
  const expected = `sha256=${createHmac('sha256', secret).update(call.body ?? '').digest('hex')}`;
  expect(call.headers[header]).toBe(expected);
}

/** A receiver that answers each event's first attempt with `failure`, and accepts the next one. */
function failingFirst(failure: HttpFixture): HttpFixture {
  const failed = new Set<string>();
  return (call) => {
    const id = eventIdOf(call)!;
    if (failed.has(id)) return { status: 200 };
    failed.add(id);
    return typeof failure === 'function' ? failure(call) : failure;
  };
}

describe('forwarding', () => {
  it('POSTs each GIFT, FOLLOW, SUBSCRIBE and SHARE of a capture once, in order, signed (giftsCollector)', async () => {
    const events = captureEvents('giftsCollector.capture.ndjson');
    const chosen = events.filter((event) => ['GIFT', 'FOLLOW', 'SUBSCRIBE', 'SHARE'].includes(event.eventType));
    expect(chosen).toHaveLength(43);
    const host = await startHost({ status: 204 });
    await host.send(...events);
    await settled(host);

    expect(host.httpCalls).toHaveLength(chosen.length);
    host.httpCalls.forEach((call, i) => {
      const event = chosen[i]!;
      expect(call).toMatchObject({ method: 'POST', url: RECEIVER });
      // The body is the event itself, exactly as the plugin received it.
      expect(call.body).toBe(JSON.stringify(event));
      expect(call.headers).toMatchObject({ 'content-type': 'application/json', 'x-ttlp-event-id': event.eventId, 'x-ttlp-attempt': '1' });
      expectSigned(call);
    });
    expect([...host.kv.keys()]).toEqual(['pending-ids']);
    expect(host.logs).toEqual([]);
    expect(host.faults).toEqual([]);
  });

  it('forwards only the configured event types (ab: follows and shares)', async () => {
    const events = captureEvents('ab.capture.ndjson');
    const host = await startHost({ status: 200 }, { events: ['FOLLOW', 'SHARE'] });
    await host.send(...events);
    await settled(host);
    const expected = events.filter((event) => event.eventType === 'FOLLOW' || event.eventType === 'SHARE').map((event) => event.eventId);
    expect(expected).toHaveLength(21);
    expect(host.httpCalls.map(eventIdOf)).toEqual(expected);
  });

  it('sends an event delivered twice by the bus once', async () => {
    const host = await startHost({ status: 200 });
    const event = follow();
    await host.send(event, event);
    await settled(host);
    expect(host.httpCalls.map(eventIdOf)).toEqual([event.eventId]);
  });

  it('signs in the configured header', async () => {
    const host = await startHost({ status: 200 }, { signatureHeader: 'X-Hub-Signature-256' });
    await host.send(follow());
    await settled(host);
    expectSigned(host.httpCalls[0]!, 'x-hub-signature-256');
    expect(host.httpCalls[0]!.headers['x-ttlp-signature']).toBeUndefined();
  });
});

describe('retries', () => {
  it.each([
    ['a 503', failingFirst({ status: 503 })],
    ['a 429', failingFirst({ status: 429 })],
    [
      'a network error',
      failingFirst(() => {
        throw new Error('connect ECONNREFUSED');
      }),
    ],
  ])('retries after %s and delivers once, with the same body and signature', async (_, receiver) => {
    const host = await startHost(receiver, { initialBackoffMs: 10 });
    const event = follow();
    await host.send(event);
    await settled(host);
    const [first, second] = host.httpCalls;
    expect(host.httpCalls).toHaveLength(2);
    expect([attemptOf(first!), attemptOf(second!)]).toEqual(['1', '2']);
    expect(second!.body).toBe(first!.body);
    expect(second!.headers['x-ttlp-signature']).toBe(first!.headers['x-ttlp-signature']);
    expectSigned(second!);
    expect(host.kv.has(`dlq:${event.eventId}`)).toBe(false);
    expect(host.faults).toEqual([]);
  });

  it('sends the events behind a failed one while it waits for its retry', async () => {
    const [a, b, c] = [follow(), follow(), follow()];
    let failedOnce = false;
    const receiver: HttpFixture = (call) => {
      if (eventIdOf(call) !== a.eventId || failedOnce) return { status: 200 };
      failedOnce = true;
      return { status: 503 };
    };
    const host = await startHost(receiver, { initialBackoffMs: 200 });
    await host.send(a, b, c);
    await settled(host);
    expect(host.httpCalls.map((call) => [eventIdOf(call), attemptOf(call)])).toEqual([
      [a.eventId, '1'],
      [b.eventId, '1'],
      [c.eventId, '1'],
      [a.eventId, '2'],
    ]);
  });

  it('puts an event refused with a 4xx into the dead-letter queue without retrying', async () => {
    const host = await startHost({ status: 400, body: 'bad signature' }, { initialBackoffMs: 10 });
    const event = follow();
    await host.send(event);
    await settled(host);
    expect(host.httpCalls).toHaveLength(1);
    expect(host.kv.get(`dlq:${event.eventId}`)).toEqual({
      event: JSON.parse(JSON.stringify(event)) as Json,
      attempts: 1,
      lastError: 'HTTP 400: bad signature',
      failedAt: expect.any(String),
    });
    expect(host.kv.get('dlq-ids')).toEqual([event.eventId]);
    expect(host.logs).toEqual([
      {
        level: 'error',
        message: 'an event was not delivered; it is in the dead-letter queue',
        fields: { eventId: event.eventId, attempts: 1, lastError: 'HTTP 400: bad signature', key: `dlq:${event.eventId}` },
      },
    ]);
  });

  it('gives up after maxAttempts, waiting longer before each attempt', async () => {
    const times: number[] = [];
    const host = await startHost(
      () => {
        times.push(Date.now());
        return { status: 500 };
      },
      { maxAttempts: 4, initialBackoffMs: 50, maxBackoffMs: 80 },
    );
    const event = follow();
    await host.send(event);
    await settled(host);
    expect(host.httpCalls.map(attemptOf)).toEqual(['1', '2', '3', '4']);
    expect(host.kv.get(`dlq:${event.eventId}`)).toMatchObject({ attempts: 4, lastError: 'HTTP 500' });
    // 50 ms ±20 %, then 100 ms ±20 % and 200 ms ±20 %, both capped at 80 ms (a ms of timer rounding allowed).
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(39);
    expect(gaps[1]).toBeGreaterThanOrEqual(79);
    expect(gaps[2]).toBeGreaterThanOrEqual(79);
    expect(host.faults).toEqual([]);
  });

  it('keeps up with many failing events on one timer and few log lines (a receiver that is down)', async () => {
    const host = await startHost({ status: 502 }, { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 });
    const events = Array.from({ length: 150 }, follow);
    await host.send(...events);
    await settled(host);
    expect(host.httpCalls).toHaveLength(300);
    // Their retries are due in jittered order, so they end up in the dead-letter queue in any order.
    expect((host.kv.get('dlq-ids') as string[]).toSorted()).toEqual(events.map((event) => event.eventId).toSorted());
    // Without the limit, 150 error lines would exceed the sandbox's log rate and fault the plugin.
    expect(host.faults).toEqual([]);
    // Every dead letter is logged, or counted in a summary line once the rate allows one.
    const isLetter = (line: LogRecord) => line.message === 'an event was not delivered; it is in the dead-letter queue';
    const accounted = () => host.logs.reduce((sum, line) => sum + (isLetter(line) ? 1 : Number(line.fields?.suppressed)), 0);
    await waitFor(() => expect(accounted()).toBe(events.length));
    expect(host.logs.filter(isLetter).length).toBeLessThan(20);
  });

  it('sends new events straight to the dead-letter queue while the delivery queue is full', async () => {
    const host = await startHost({ status: 503 }, { initialBackoffMs: 3_600_000 });
    const events = Array.from({ length: MAX_PENDING + 1 }, follow);
    await host.send(...events);
    await waitFor(() => expect(host.httpCalls).toHaveLength(MAX_PENDING));
    const last = events.at(-1)!;
    expect(host.kv.get(`dlq:${last.eventId}`)).toMatchObject({ attempts: 0, lastError: `the delivery queue is full (${MAX_PENDING} events waiting)` });
    expect(host.kv.get('pending-ids')).toHaveLength(MAX_PENDING);
  });

  it('finishes pending retries after a restart', async () => {
    const config = { initialBackoffMs: 300 };
    const first = await startHost({ status: 503 }, config);
    const event = follow();
    await first.send(event);
    await waitFor(() => expect(first.kv.get(`pending:${event.eventId}`)).toMatchObject({ attempts: 1 }));
    await first.close();

    const second = await startHost({ status: 200 }, config, { kv: Object.fromEntries(first.kv) });
    await settled(second);
    const [retry] = second.httpCalls;
    expect(second.httpCalls).toHaveLength(1);
    expect(attemptOf(retry!)).toBe('2');
    expect(retry!.body).toBe(first.httpCalls[0]!.body);
    expectSigned(retry!);
    expect([...second.kv.keys()]).toEqual(['pending-ids']);
  });

  it('loads a full delivery queue after a restart, within the kv requests a plugin may have waiting', async () => {
    const config = { initialBackoffMs: 300 };
    // The first host's retries are due 10 s on: far later than its 500 first attempts take, and
    // what the second host waits for before it delivers the queue it loaded.
    const first = await startHost({ status: 503 }, { initialBackoffMs: 10_000 });
    await first.send(...Array.from({ length: MAX_PENDING }, follow));
    await waitFor(() => expect(first.httpCalls).toHaveLength(MAX_PENDING));
    await first.close();

    const second = await startHost({ status: 200 }, config, { kv: Object.fromEntries(first.kv) });
    await settled(second);
    expect(second.faults).toEqual([]);
    // Each event of the queue once, in the order their retries came due.
    expect(second.httpCalls.map(eventIdOf).sort()).toEqual(first.httpCalls.map(eventIdOf).sort());
  });
});

describe('the URL', () => {
  it('must be https', async () => {
    await expect(createTestHost({ plugin, config: { url: 'http://receiver/', secret: SECRET } })).rejects.toThrow(/\/url/);
  });

  it('is refused when no granted pattern matches it: no request, a dead letter at once', async () => {
    const host = await startHost({ status: 200 }, { url: 'https://elsewhere.example.com/hook', initialBackoffMs: 10 }, {
      grants: ['events:*', 'kv', 'http:https://hooks.example.com/**'],
    });
    const event = follow();
    await host.send(event);
    await settled(host);
    expect(host.httpCalls).toEqual([]);
    expect(host.kv.get(`dlq:${event.eventId}`)).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/^not allowed to fetch https:\/\/elsewhere\.example\.com\/hook/) });
  });

  it('needs a secret of at least 16 characters', async () => {
    await expect(createTestHost({ plugin, config: { url: RECEIVER } })).rejects.toThrow(/secret/);
    await expect(createTestHost({ plugin, config: { url: RECEIVER, secret: 'too-short' } })).rejects.toThrow(/\/secret/);
  });

  it('when missing, is reported once and nothing is forwarded', async () => {
    const host = await createTestHost({ plugin });
    hosts.push(host);
    await host.send(follow(), follow());
    expect(host.httpCalls).toEqual([]);
    expect(host.logs).toEqual([{ level: 'warn', message: 'no url is configured: no events are forwarded' }]);
  });

  // With the SDK's current globs, `**` in a host matches one label only, so the manifest's
  // `https://**` cannot reach a name with dots. Once the SDK treats `**` as "anything" (as the
  // manifest schema documents), this fails: make it an ordinary `it` and drop RECEIVER's caveat.
  it('reaches any https URL with the https://** grant', async () => {
    const url = 'https://a.b.example.net/deep/path?token=1';
    const host = await createTestHost({ plugin, config: { url, secret: SECRET }, http: { [`POST ${url}`]: { status: 200 } } });
    hosts.push(host);
    await host.send(follow());
    await settled(host);
    expect(host.httpCalls).toHaveLength(1);
  });
});

describe('policy', () => {
  it('retries 429, 5xx and network errors; gives up on other statuses and refused URLs', () => {
    expect(resultOfStatus(200, '')).toEqual({ outcome: 'delivered' });
    expect(resultOfStatus(299, '')).toEqual({ outcome: 'delivered' });
    expect(resultOfStatus(429, 'slow down')).toEqual({ outcome: 'retry', error: 'HTTP 429: slow down' });
    expect(resultOfStatus(503, '')).toEqual({ outcome: 'retry', error: 'HTTP 503' });
    expect(resultOfStatus(301, '')).toEqual({ outcome: 'failed', error: 'HTTP 301' });
    expect(resultOfStatus(404, 'x'.repeat(500))).toEqual({ outcome: 'failed', error: `HTTP 404: ${'x'.repeat(200)}` });
    expect(resultOfError('getaddrinfo ENOTFOUND receiver')).toMatchObject({ outcome: 'retry' });
    expect(resultOfError('not allowed to fetch https://x/ (no granted URL pattern matches)')).toMatchObject({ outcome: 'failed' });
  });

  it('doubles the wait with each attempt, ±20 %, up to the cap', () => {
    const at = (random: number) => [1, 2, 3, 4, 8].map((attempts) => retryDelayMs(attempts, 1000, 10_000, () => random));
    expect(at(0.5)).toEqual([1000, 2000, 4000, 8000, 10_000]);
    expect(at(0)).toEqual([800, 1600, 3200, 6400, 10_000]);
    expect(at(1)).toEqual([1200, 2400, 4800, 9600, 10_000]);
  });
});
