/**
 * `http.fetch` for plugins, after the sandbox checked the URL against the granted globs.
 * The address is checked where the connection is made (in `lookup`, after DNS resolution), so a
 * name that resolves to a private, loopback, link-local or metadata address is refused too —
 * unless that exact origin was granted. Redirects are not followed; the response's size and
 * time are capped.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { HttpAnswer, HttpCall } from '@ttlp/sdk/sandbox';

export interface HttpLimits {
  timeoutMs: number;
  maxResponseBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { timeoutMs: 10_000, maxResponseBytes: 1024 * 1024 };

/** Addresses a plugin may not reach unless the exact origin was granted. */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  // Local-use NAT64 translates to whatever the local network routes.
  ['64:ff9b:1::', 48],
] as const)
  PRIVATE.addSubnet(network, prefix, 'ipv6');

/** IPv6 addresses that carry an IPv4 address a gateway forwards to: NAT64 (RFC 6052) and 6to4 (RFC 3056). */
const NAT64 = new BlockList();
NAT64.addSubnet('64:ff9b::', 96, 'ipv6');
const SIX_TO_FOUR = new BlockList();
SIX_TO_FOUR.addSubnet('2002::', 16, 'ipv6');

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included). */
function ipv6Groups(address: string): number[] {
  const groupsOf = (text: string): number[] =>
    text === ''
      ? []
      : text.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = address.split('::');
  const start = groupsOf(head);
  const end = tail === undefined ? [] : groupsOf(tail);
  return [...start, ...Array<number>(8 - start.length - end.length).fill(0), ...end];
}

const ipv4Of = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/** True for an address a plugin must not reach by default (IPv4-mapped IPv6 included). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  if (PRIVATE.check(address, 'ipv6')) return true;
  // A translating gateway would carry the request on to the IPv4 address inside.
  if (NAT64.check(address, 'ipv6')) {
    const groups = ipv6Groups(address);
    return PRIVATE.check(ipv4Of(groups[6]!, groups[7]!), 'ipv4');
  }
  if (SIX_TO_FOUR.check(address, 'ipv6')) {
    const groups = ipv6Groups(address);
    return PRIVATE.check(ipv4Of(groups[1]!, groups[2]!), 'ipv4');
  }
  return false;
}

export class HttpRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpRefused';
  }
}

/** A lookup that fails for private addresses unless `allowPrivate`. */
function guardedLookup(hostname: string, allowPrivate: boolean): LookupFunction {
  return (name, options, callback) => {
    dnsLookup(name, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as unknown as LookupAddress[];
      const refused = list.find((entry) => isPrivateAddress(entry.address));
      if (refused && !allowPrivate)
        return callback(new HttpRefused(`${hostname} resolves to ${refused.address}, a private address; grant its exact origin to allow it`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0]!;
      return callback(null, first.address, first.family);
    });
  };
}

export async function pluginFetch(call: HttpCall, exactOrigins: Set<string>, limits: HttpLimits = DEFAULT_HTTP_LIMITS): Promise<HttpAnswer> {
  const url = new URL(call.url);
  const allowPrivate = exactOrigins.has(url.origin);
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && isPrivateAddress(literal) && !allowPrivate)
    throw new HttpRefused(`${literal} is a private address; grant its exact origin to allow it`);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
      request.destroy();
    };
    const request = client.request(
      url,
      {
        method: call.method,
        headers: { 'user-agent': 'ttlp-plugin', ...call.headers },
        lookup: guardedLookup(url.hostname, allowPrivate),
        timeout: limits.timeoutMs,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxResponseBytes) fail(new HttpRefused(`the response is larger than ${limits.maxResponseBytes} bytes`));
          else chunks.push(chunk);
        });
        response.on('end', () => {
          if (settled) return;
          settled = true;
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
          resolve({ status: response.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', fail);
      },
    );
    const deadline = setTimeout(() => fail(new HttpRefused(`no complete answer within ${limits.timeoutMs} ms`)), limits.timeoutMs);
    request.on('close', () => clearTimeout(deadline));
    request.on('timeout', () => fail(new HttpRefused(`no answer within ${limits.timeoutMs} ms`)));
    request.on('error', fail);
    request.end(call.body);
  });
}
