/**
 * Every call the settings page makes to the host's HTTP API. Requests carry the session cookie
 * set by `POST /api/auth/login` (httpOnly, SameSite=Strict); errors come back as
 * `{ code, message, ...details }` and are thrown as ApiError.
 */
import type { EventType } from '@ttlp/sdk';
import type {
  ApiErrorBody,
  ApiTokenList,
  CreatedApiToken,
  EventPage,
  HostStatus,
  OverlayLink,
  WidgetOptionsRead,
  OverlayLinkList,
  PluginList,
  PluginView,
  PrincipalView,
  ReplayStarted,
  SessionList,
  TestEventAccepted,
} from '@ttlp/sdk/host-contract';

/** What an error body says besides its code and message (`problems`, `retryAfter`…). */
export type ApiErrorDetails = Omit<ApiErrorBody, 'code' | 'message'>;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ApiErrorDetails;

  constructor(status: number, code: string, message: string, details: ApiErrorDetails = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Told when a call answers 401 after login (the session ended), so the page can ask again. */
let onSessionLost: (() => void) | null = null;
export function whenSessionLost(handler: (() => void) | null): void {
  onSessionLost = handler;
}

async function request<T>(method: string, path: string, body?: unknown, options: { authProbe?: boolean } = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The host cannot be reached.');
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : {};
    const { code, message, ...details } = error;
    if (response.status === 401 && !options.authProbe) onSessionLost?.();
    throw new ApiError(
      response.status,
      typeof code === 'string' ? code : `HTTP_${response.status}`,
      typeof message === 'string' && message !== '' ? message : `${response.status} ${response.statusText}`.trim(),
      details as ApiErrorDetails,
    );
  }
  return json as T;
}

const path = (strings: TemplateStringsArray, ...values: string[]) =>
  strings.reduce((out, part, index) => out + part + (index < values.length ? encodeURIComponent(values[index] ?? '') : ''), '');

export const api = {
  /** Resolves when the session cookie is valid; rejects with status 401 when not. */
  me: () => request<PrincipalView>('GET', '/api/auth/me', undefined, { authProbe: true }),
  login: (token: string) => request<void>('POST', '/api/auth/login', { token }, { authProbe: true }),
  logout: () => request<void>('POST', '/api/auth/logout', undefined, { authProbe: true }),

  status: () => request<HostStatus>('GET', '/api/status'),

  plugins: () => request<PluginList>('GET', '/api/plugins'),
  enablePlugin: (id: string, grant: string[]) => request<PluginView>('POST', path`/api/plugins/${id}/enable`, { grant }),
  disablePlugin: (id: string) => request<PluginView>('POST', path`/api/plugins/${id}/disable`),
  configurePlugin: (id: string, config: unknown) => request<PluginView>('PUT', path`/api/plugins/${id}/config`, { config }),

  sendTestEvent: (eventType: EventType, overrides: { payload?: Record<string, unknown>; user?: Record<string, unknown> } = {}) =>
    request<TestEventAccepted>('POST', '/api/events/test', { eventType, ...overrides }),

  sessions: (limit = 50) => request<SessionList>('GET', `/api/sessions?limit=${limit}`),
  sessionEvents: (sessionId: string, query: { limit?: number; cursor?: string | null; type?: string | null } = {}) => {
    const search = new URLSearchParams({ limit: String(query.limit ?? 100) });
    if (query.cursor) search.set('cursor', query.cursor);
    if (query.type) search.set('type', query.type);
    return request<EventPage>('GET', `${path`/api/sessions/${sessionId}/events`}?${search}`);
  },
  replaySession: (sessionId: string, speed: number) =>
    request<ReplayStarted>('POST', path`/api/sessions/${sessionId}/replay`, { speed }),

  overlays: () => request<OverlayLinkList>('GET', '/api/overlays'),
  regenerateOverlay: (pluginId: string, widgetId: string) => request<OverlayLink>('POST', path`/api/overlays/${pluginId}/${widgetId}/regenerate`),
  checkWidgetOptions: (pluginId: string, widgetId: string, query: string) =>
    request<WidgetOptionsRead>('POST', path`/api/overlays/${pluginId}/${widgetId}/options`, { query }),

  tokens: () => request<ApiTokenList>('GET', '/api/tokens'),
  createToken: (name: string) => request<CreatedApiToken>('POST', '/api/tokens', { kind: 'api', name }),
  deleteToken: (tokenId: string) => request<void>('DELETE', path`/api/tokens/${tokenId}`),
};

/** The message to show for a failed call. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
