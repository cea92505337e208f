/**
 * `http.fetch` for plugins, after the sandbox checked the URL against the granted globs.
 * The address is checked where the connection is made (in `lookup`, after DNS resolution), so a
 * name that resolves to a private, loopback, link-local, metadata or any other address outside
 * global unicast is refused too — unless that exact origin was granted. Redirects are not followed; the response's size and
 * time are capped.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { HttpAnswer, HttpCall } from '@ttlp/sdk/sandbox';
import ipaddr from 'ipaddr.js';

export interface HttpLimits {
  timeoutMs: number;
  maxResponseBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { timeoutMs: 10_000, maxResponseBytes: 1024 * 1024 };

/**
 * The IPv4 address inside an IPv6 address that stands for one — IPv4-mapped (`::ffff:a.b.c.d`,
 * RFC 4291), IPv4-translated (RFC 6145), the well-known NAT64 prefix (`64:ff9b::/96`, RFC 6052),
 * 6to4 (`2002::/16`, RFC 3056) — where a stack or gateway would carry the request on to it.
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const bytes = address.toByteArray();
  const ipv4At = (at: number) => new ipaddr.IPv4(bytes.slice(at, at + 4));
  const zero = (from: number, to: number) => bytes.slice(from, to).every((byte) => byte === 0);
  switch (address.range()) {
    case 'ipv4Mapped':
    case 'rfc6145':
      return ipv4At(12);
    case 'rfc6052':
      return zero(4, 12) ? ipv4At(12) : undefined;
    case '6to4':
      return ipv4At(2);
    default:
      return undefined;
  }
}

/**
 * True for an address a plugin must not reach by default: anything but global unicast. An IPv6
 * address standing for an IPv4 one is judged by that IPv4 address. Refused outright: the
 * deprecated IPv4-compatible form (`::a.b.c.d`, which some stacks still route), local-use NAT64
 * (`64:ff9b:1::/48`, translated to whatever the local network routes) and Teredo (`2001::/32`,
 * whose IPv4 end is obscured).
 */
export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.range() !== 'unicast';
  const ipv6 = parsed as ipaddr.IPv6;
  if (ipv6.toByteArray().slice(0, 12).every((byte) => byte === 0)) return true;
  const ipv4 = embeddedIPv4(ipv6);
  if (ipv4) return ipv4.range() !== 'unicast';
  return ipv6.range() !== 'unicast';
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
