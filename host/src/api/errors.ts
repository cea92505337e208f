/**
 * Every error the API answers with has a stable `code`; the one error handler (app.ts) turns
 * them into `{ code, message, ...details }` with their status, and hides what a 5xx was about.
 */
import createError from '@fastify/error';
import { ApiErrorSchema } from '@ttlp/sdk/host-contract';

export const AuthRequired = createError('AUTH_REQUIRED', 'authentication required: log in, or send "Authorization: Bearer <token>"', 401);
export const AuthForbidden = createError('AUTH_FORBIDDEN', 'this token cannot do that: %s', 403);
export const AuthInvalidToken = createError('AUTH_INVALID_TOKEN', 'invalid token', 401);
export const AuthRateLimited = createError('AUTH_RATE_LIMITED', 'too many failed logins; try again in %s s', 429);
export const NotFound = createError('NOT_FOUND', '%s', 404);
export const InvalidRequest = createError('INVALID_REQUEST', '%s', 400);
export const PluginNotFound = createError('PLUGIN_NOT_FOUND', 'no plugin "%s"', 404);
export const PluginPermissionsMissing = createError('PLUGIN_PERMISSIONS_MISSING', '%s', 400);
export const PluginPermissionUnknown = createError('PLUGIN_PERMISSION_UNKNOWN', '%s', 400);
export const PluginConfigInvalid = createError('PLUGIN_CONFIG_INVALID', '%s', 400);
export const SessionNotFound = createError('SESSION_NOT_FOUND', 'no stored session %s', 404);
export const TokenNotFound = createError('TOKEN_NOT_FOUND', 'no token %s', 404);
export const OverlayUnknownWidget = createError('OVERLAY_UNKNOWN_WIDGET', 'no overlay widget "%s"', 404);
export const IngestUnavailable = createError('INGEST_UNAVAILABLE', '%s', 409);
export const ErasureSubjectNotFound = createError('ERASURE_SUBJECT_NOT_FOUND', '%s', 404);
export const ErasureSubjectAmbiguous = createError('ERASURE_SUBJECT_AMBIGUOUS', '%s', 409);
export const PrivacyNotConfigured = createError('PRIVACY_NOT_CONFIGURED', 'this host has no pseudonymization secret', 503);

/** Extra fields for the error body (problems, missing permissions, retryAfter…). */
export function withDetails<E extends Error>(error: E, details: Record<string, unknown>): E {
  Object.assign(error, { details });
  return error;
}

/** The error bodies every route declares beside its answers (fastify's `4xx` / `5xx` response keys). */
export const ERROR_RESPONSES = { '4xx': ApiErrorSchema, '5xx': ApiErrorSchema } as const;
