import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPrivateAddress, pluginFetch } from './http.ts';

let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/big') return response.end('x'.repeat(4096));
    if (request.url === '/slow') return setTimeout(() => response.end('late'), 2000);
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: request.method, body })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const get = (url: string) => ({ url, method: 'GET', headers: {} });

describe('plugin http', () => {
  it.each([
    ...['127.0.0.1', '10.0.0.1', '169.254.169.254', '192.168.1.20', '172.16.5.4', '100.64.0.1', '0.0.0.0', '255.255.255.255', '192.0.2.1', '198.18.0.1', '224.0.0.1'],
    ...['::', '::1', 'fe80::1', 'fd00:ec2::254', 'fec0::1', '100::1', '2001:db8::1', 'ff02::1', 'not-an-address'],
    // IPv6 forms that carry a private IPv4 address to a stack or gateway, or hide the one they carry.
    ...['::ffff:127.0.0.1', '::ffff:0:7f00:1', '64:ff9b::7f00:1', '64:ff9b::10.0.0.1', '64:ff9b::a9fe:a9fe', '64:ff9b:1::808:808', '2002:7f00:1::1', '2002:c0a8:114::'],
    ...['::7f00:1', '::10.0.0.1', '::808:808', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
  ])(
    'treats %s as private',
    (address) => expect(isPrivateAddress(address)).toBe(true),
  );

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '64:ff9b::808:808', '2002:808:808::1'])('treats %s as public', (address) => expect(isPrivateAddress(address)).toBe(false));

  it.each(['http://127.0.0.1/', 'http://[::1]/', 'http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/'])(
    'refuses %s without an exact grant',
    async (url) => {
      await expect(pluginFetch(get(url), new Set())).rejects.toThrow(/is a private address/);
    },
  );

  it('refuses a host name that resolves to loopback, checked after DNS resolution', async () => {
    const port = new URL(origin).port;
    await expect(pluginFetch(get(`http://localhost:${port}/`), new Set())).rejects.toThrow(/localhost resolves to (127\.0\.0\.1|::1), a private address/);
  });

  it('reaches a private address when that exact origin was granted', async () => {
    const answer = await pluginFetch({ url: `${origin}/echo`, method: 'POST', headers: {}, body: 'hello' }, new Set([origin]));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ method: 'POST', body: 'hello' });
  });

  it('caps the response size and time', async () => {
    const granted = new Set([origin]);
    await expect(pluginFetch(get(`${origin}/big`), granted, { timeoutMs: 5000, maxResponseBytes: 1024 })).rejects.toThrow('larger than 1024 bytes');
    await expect(pluginFetch(get(`${origin}/slow`), granted, { timeoutMs: 200, maxResponseBytes: 1024 })).rejects.toThrow(/within 200 ms/);
  });
});
