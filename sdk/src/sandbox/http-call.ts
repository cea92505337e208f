/**
 * A plugin's `ctx.http.fetch(url, init)` shaped into the call the host makes: an http(s) URL
 * without credentials that a grant allows, lower-case header names, and, when the plugin asked
 * for it, an HMAC-SHA256 signature of the body in the header it named.
 */
import { createHmac } from 'node:crypto';
import type { Grants } from './permissions.ts';
import type { HttpCall } from './services.ts';

export function toHttpCall(args: Record<string, unknown>, grants: Grants): HttpCall {
  let url: URL;
  try {
    url = new URL(String(args.url));
  } catch {
    throw new Error(`not a URL: ${String(args.url).slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`only http and https URLs can be fetched, not ${url.protocol}`);
  if (url.username || url.password) throw new Error('URLs with credentials cannot be fetched');
  if (!grants.fetchGrant(url)) throw new Error(`not allowed to fetch ${url.href} (no granted URL pattern matches)`);
  const init = (args.init && typeof args.init === 'object' ? args.init : {}) as Record<string, unknown>;
  const headers: Record<string, string> = {};
  if (init.headers && typeof init.headers === 'object')
    for (const [name, value] of Object.entries(init.headers as Record<string, unknown>)) headers[name.toLowerCase()] = String(value);
  const method = String(init.method ?? 'GET').toUpperCase();
  const body = typeof init.body === 'string' ? init.body : undefined;
  const sign = init.sign as { header?: unknown; secret?: unknown } | undefined;
  if (sign && typeof sign === 'object') {
    if (typeof sign.header !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(sign.header) || typeof sign.secret !== 'string' || sign.secret === '')
      throw new Error('sign needs a header name and a non-empty secret');
    headers[sign.header.toLowerCase()] = `sha256=${createHmac('sha256', sign.secret).update(body ?? '').digest('hex')}`;
  }
  return { url: url.href, method, headers, ...(body === undefined ? {} : { body }) };
}
