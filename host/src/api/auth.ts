/**
 * Who is asking: the admin token (printed once at the first start), settings-page sessions made
 * from it (an httpOnly, SameSite=Strict cookie), API tokens (bearer), the host's own token for
 * `ttlp` commands on its machine (bearer, never stored; local-access.ts) and overlay tokens (one
 * per widget, read-only, in the overlay URL). Lookups are by hash and cached for a few seconds;
 * failed logins are limited per client address. The `authentication` plugin answers it once per
 * request, as `request.principal`, for the `/api` scope and the socket routes alike.
 */
import { timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Store } from '../store/database.ts';
import {
  adminTokenIssued,
  findToken,
  getToken,
  hashToken,
  insertToken,
  listTokens,
  newToken,
  revokeToken,
  revokeTokensOfKind,
  touchToken,
  type TokenRow,
  type TokenScope,
} from '../store/tokens.ts';
import { AuthForbidden, AuthRequired } from './errors.ts';

export type PrincipalKind = 'admin' | 'api' | 'overlay';

export interface Principal {
  kind: PrincipalKind;
  tokenId: string;
  /** Overlay tokens: the widget the token opens. */
  widget?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: admin and API tokens (and settings sessions) only. */
    requireAdmin: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    /** Who is asking, found once per request by `authentication`; undefined when nobody is. */
    principal: Principal | undefined;
  }
}

export const SESSION_COOKIE = 'ttlp_session';
const SESSION_TTL_MS = 7 * 24 * 3600_000;
/** Revocations reach other hosts within this long. */
const CACHE_TTL_MS = 10_000;
const TOUCH_EVERY_MS = 60_000;
/** Who sends the local token: `ttlp` commands on the host's machine, with an API token's rights. */
const COMMAND_LINE: Principal = { kind: 'api', tokenId: 'command-line' };

interface CachedPrincipal {
  principal: Principal | undefined;
  until: number;
}

export class AccessTokens {
  private readonly cache = new Map<string, CachedPrincipal>();
  private readonly touched = new Map<string, number>();
  /** The SHA-256 of this process's local token, once `issueLocalToken` made it. */
  private localTokenHash: Buffer | undefined;

  constructor(private readonly store: Store) {}

  /**
   * A token for `ttlp` commands on this machine (handed over by local-access.ts): only this process
   * knows it, it is never stored, and it ends with the process. A new one replaces the last.
   */
  issueLocalToken(): string {
    const token = newToken('api');
    this.localTokenHash = Buffer.from(hashToken(token), 'hex');
    return token;
  }

  /** On the first start: issues the admin token and returns it (the only time it is readable). */
  async issueFirstAdminToken(): Promise<string | undefined> {
    if (await adminTokenIssued(this.store)) return undefined;
    const token = newToken('admin');
    await insertToken(this.store, { name: 'admin', kind: 'admin', token });
    return token;
  }

  /** Replaces the admin token and ends every settings-page session; returns the new token. */
  async resetAdminToken(): Promise<string> {
    await revokeTokensOfKind(this.store, 'admin');
    this.cache.clear();
    const token = newToken('admin');
    await insertToken(this.store, { name: 'admin', kind: 'admin', token });
    return token;
  }

  /** The principal of a bearer header, the session cookie, or (overlay tokens only) a `token` query parameter. */
  async authenticate(request: FastifyRequest): Promise<Principal | undefined> {
    const header = request.headers.authorization;
    const bearer = typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : undefined;
    if (bearer) return this.isLocalToken(bearer) ? COMMAND_LINE : this.principalOf(bearer);
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (cookie) {
      const principal = await this.principalOf(cookie);
      if (principal) return principal;
    }
    const query = (request.query as Record<string, unknown> | undefined)?.token;
    if (typeof query === 'string' && query.length > 0) {
      const principal = await this.principalOf(query);
      // Admin and API tokens never travel in URLs, where logs and browser history keep them.
      return principal?.kind === 'overlay' ? principal : undefined;
    }
    return undefined;
  }

  /** A session for the settings page, when `token` is the admin token. */
  async login(token: string): Promise<{ session: string; expiresAt: Date } | undefined> {
    const row = await findToken(this.store, token);
    if (!row || row.kind !== 'admin' || isSession(row)) return undefined;
    const session = newToken('session');
    const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await insertToken(this.store, { name: 'settings session', kind: 'admin', token: session, scope: { sessionExpiresAt: expiresAt.toISOString() } });
    return { session, expiresAt };
  }

  async logout(session: string): Promise<void> {
    const row = await findToken(this.store, session);
    if (row && isSession(row)) await this.revoke(row.tokenId);
  }

  /** The widget's overlay token, created when it has none. */
  async overlayToken(widget: string): Promise<{ tokenId: string; token: string }> {
    const existing = (await listTokens(this.store, 'overlay')).find((row) => scopeOf(row).widget === widget);
    if (existing) return { tokenId: existing.tokenId, token: scopeOf(existing).token! };
    return this.createOverlayToken(widget);
  }

  /** A new overlay token for the widget; the old one stops working. */
  async regenerateOverlayToken(widget: string): Promise<{ tokenId: string; token: string }> {
    for (const row of await listTokens(this.store, 'overlay')) if (scopeOf(row).widget === widget) await this.revoke(row.tokenId);
    return this.createOverlayToken(widget);
  }

  async createApiToken(name: string): Promise<{ row: TokenRow; token: string }> {
    const token = newToken('api');
    return { row: await insertToken(this.store, { name, kind: 'api', token }), token };
  }

  /** Live tokens other than settings sessions. */
  async list(): Promise<TokenRow[]> {
    return (await listTokens(this.store)).filter((row) => !isSession(row));
  }

  async get(tokenId: string): Promise<TokenRow | undefined> {
    return getToken(this.store, tokenId);
  }

  async revoke(tokenId: string): Promise<boolean> {
    const revoked = await revokeToken(this.store, tokenId);
    // Every cached principal of that token goes; the cache is keyed by token, not id.
    for (const [key, cached] of this.cache) if (cached.principal?.tokenId === tokenId) this.cache.delete(key);
    return revoked;
  }

  private isLocalToken(token: string): boolean {
    const expected = this.localTokenHash;
    return expected !== undefined && timingSafeEqual(Buffer.from(hashToken(token), 'hex'), expected);
  }

  private async createOverlayToken(widget: string): Promise<{ tokenId: string; token: string }> {
    const token = newToken('overlay');
    const row = await insertToken(this.store, { name: `overlay ${widget}`, kind: 'overlay', token, scope: { widget, token } });
    return { tokenId: row.tokenId, token };
  }

  private async principalOf(token: string): Promise<Principal | undefined> {
    const now = Date.now();
    const cached = this.cache.get(token);
    if (cached && cached.until > now) return cached.principal;
    const row = await findToken(this.store, token);
    const expires = row && isSession(row) ? Date.parse(scopeOf(row).sessionExpiresAt!) : Infinity;
    const principal: Principal | undefined =
      row && expires > now ? { kind: row.kind, tokenId: row.tokenId, ...(scopeOf(row).widget ? { widget: scopeOf(row).widget } : {}) } : undefined;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, { principal, until: Math.min(now + CACHE_TTL_MS, expires) });
    if (principal && now - (this.touched.get(principal.tokenId) ?? 0) > TOUCH_EVERY_MS) {
      this.touched.set(principal.tokenId, now);
      await touchToken(this.store, principal.tokenId);
    }
    return principal;
  }
}

export interface AuthenticationOptions {
  /** Answers a request's principal: the host's AccessTokens, or a test's stand-in. */
  tokens: Pick<AccessTokens, 'authenticate'>;
}

async function authenticationPlugin(app: FastifyInstance, { tokens }: AuthenticationOptions): Promise<void> {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    request.principal = await tokens.authenticate(request);
  });
  app.decorate('requireAdmin', async (request: FastifyRequest) => {
    if (!request.principal) throw new AuthRequired();
    if (request.principal.kind === 'overlay') throw new AuthForbidden('overlay tokens only open their overlay');
  });
}

/**
 * Authenticates every request once, in `onRequest`, into `request.principal`, and gives the app
 * `requireAdmin`. Registered after @fastify/cookie (settings sessions are cookies) and before
 * the routes that read the principal.
 */
export const authentication = fp(authenticationPlugin, { name: 'ttlp-authentication', fastify: '5.x' });

const scopeOf = (row: TokenRow): TokenScope => row.scope as TokenScope;
const isSession = (row: TokenRow): boolean => scopeOf(row).sessionExpiresAt !== undefined;

/**
 * Failed logins per client address: `limit` within `windowMs`, then refused until the window
 * ends. Successful logins do not count.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, { count: number; windowStart: number }>();

  constructor(
    private readonly limit = 5,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or 0. */
  retryAfter(address: string): number {
    const entry = this.failures.get(address);
    if (!entry) return 0;
    const left = entry.windowStart + this.windowMs - this.now();
    if (left <= 0) {
      this.failures.delete(address);
      return 0;
    }
    return entry.count >= this.limit ? Math.ceil(left / 1000) : 0;
  }

  fail(address: string): void {
    const now = this.now();
    const entry = this.failures.get(address);
    if (!entry || entry.windowStart + this.windowMs <= now) this.failures.set(address, { count: 1, windowStart: now });
    else entry.count += 1;
    if (this.failures.size > 100_000) this.failures.clear();
  }
}
