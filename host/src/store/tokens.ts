/**
 * Access tokens (`api_tokens`): the admin token, settings-page sessions, API tokens and one
 * overlay token per widget. Only a SHA-256 of each token is looked up; overlay tokens are also
 * kept readable, because the settings page shows overlay URLs at any time (D-029).
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Store } from './database.ts';
import { apiTokens, type ApiTokenKind } from './schema.ts';

export type TokenRow = typeof apiTokens.$inferSelect;

/** What a token row says about its use. */
export interface TokenScope {
  /** Overlay tokens: the one widget it opens. */
  widget?: string;
  /** Overlay tokens: the token itself, shown in overlay URLs. */
  token?: string;
  /** Settings-page sessions (kind admin): when the session ends. */
  sessionExpiresAt?: string;
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A new random token; the prefix says what it is when it turns up somewhere. */
export function newToken(kind: ApiTokenKind | 'session'): string {
  const prefix = { admin: 'ttlp_admin_', api: 'ttlp_api_', overlay: 'ttlp_ov_', session: 'ttlp_session_' }[kind];
  return prefix + randomBytes(32).toString('base64url');
}

export async function insertToken(store: Store, row: { name: string; kind: ApiTokenKind; token: string; scope?: TokenScope }): Promise<TokenRow> {
  const [inserted] = await store.db
    .insert(apiTokens)
    .values({ name: row.name, kind: row.kind, tokenHash: hashToken(row.token), scope: { ...row.scope } as Record<string, unknown> })
    .returning();
  return inserted!;
}

/** The live (not revoked) token with this value, if any. */
export async function findToken(store: Store, token: string): Promise<TokenRow | undefined> {
  const [row] = await store.db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt)));
  return row;
}

export async function listTokens(store: Store, kind?: ApiTokenKind): Promise<TokenRow[]> {
  return store.db
    .select()
    .from(apiTokens)
    .where(and(isNull(apiTokens.revokedAt), kind === undefined ? undefined : eq(apiTokens.kind, kind)))
    .orderBy(asc(apiTokens.createdAt), asc(apiTokens.tokenId));
}

export async function getToken(store: Store, tokenId: string): Promise<TokenRow | undefined> {
  const [row] = await store.db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenId, tokenId), isNull(apiTokens.revokedAt)));
  return row;
}

/** Revokes a token; answers whether a live one was revoked. */
export async function revokeToken(store: Store, tokenId: string): Promise<boolean> {
  const rows = await store.db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.tokenId, tokenId), isNull(apiTokens.revokedAt)))
    .returning({ tokenId: apiTokens.tokenId });
  return rows.length > 0;
}

/** Revokes every live token of a kind (sessions included, for admin); returns how many. */
export async function revokeTokensOfKind(store: Store, kind: ApiTokenKind): Promise<number> {
  const rows = await store.db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.kind, kind), isNull(apiTokens.revokedAt)))
    .returning({ tokenId: apiTokens.tokenId });
  return rows.length;
}

export async function touchToken(store: Store, tokenId: string): Promise<void> {
  await store.db.update(apiTokens).set({ lastUsedAt: sql`now()` }).where(eq(apiTokens.tokenId, tokenId));
}

/** True once an admin token (not a session) exists, revoked or not: the first start is over. */
export async function adminTokenIssued(store: Store): Promise<boolean> {
  const rows = await store.db
    .select({ tokenId: apiTokens.tokenId })
    .from(apiTokens)
    .where(and(eq(apiTokens.kind, 'admin'), sql`not (${apiTokens.scope} ? 'sessionExpiresAt')`))
    .limit(1);
  return rows.length > 0;
}
