/** The shapes of the host's HTTP API and live feed, as the settings page reads them. */

export const EVENT_TYPES = [
  'CHAT',
  'GIFT',
  'LIKE',
  'FOLLOW',
  'SHARE',
  'JOIN',
  'SUBSCRIBE',
  'EMOTE',
  'BATTLE',
  'CONNECTED',
  'DISCONNECTED',
  'ERROR',
  'RAW',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The event types `POST /api/events/test` accepts. */
export const TEST_EVENT_TYPES = ['CHAT', 'GIFT', 'LIKE', 'FOLLOW', 'SHARE', 'JOIN', 'SUBSCRIBE', 'EMOTE', 'BATTLE'] as const;
export type TestEventType = (typeof TEST_EVENT_TYPES)[number];

/** UnifiedEvent v1 (docs/contracts/unified-event.v1.schema.json): the fields this page shows. */
export interface UnifiedEvent {
  schemaVersion: string;
  eventId: string;
  eventType: string;
  streamId: string;
  sessionId: string;
  timestamp: string;
  source: 'live' | 'replay' | string;
  user: { userId: string; uniqueId: string; displayName?: string; avatarUrl?: string };
  payload?: Record<string, unknown>;
  rawType?: string;
}

export interface ProviderStatus {
  name: string;
  state: 'connecting' | 'connected' | 'offline' | 'disconnected' | 'stopped';
  streamId: string | null;
  sessionId: string | null;
  reconnects: number;
  user: string | null;
  lastError?: string | null;
}

export interface HostStatus {
  provider: ProviderStatus[];
  bus: { kind: string; ok: boolean };
  storage: { driver: string; ok: boolean };
  plugins: { running: string[]; faulted: string[] };
}

export interface PluginInfo {
  id: string;
  displayName: string;
  version: string;
  description: string | null;
  enabled: boolean;
  state: string;
  requestedPermissions: string[];
  grantedPermissions: string[];
  configSchema: Record<string, unknown>;
  config: Record<string, unknown>;
  overlayChannels: string[];
  faultCount: number;
  lastError: string | null;
}

export interface SessionInfo {
  sessionId: string;
  streamId: string;
  type: string;
  provider: string;
  startedAt: string;
  endedAt: string | null;
  eventCount: number;
  replayedFrom: string | null;
}

export interface OverlayLink {
  widget: string;
  url: string;
  tokenId: string;
}

export interface ApiTokenInfo {
  tokenId: string;
  /** `admin`, `api` or `overlay`. */
  kind: string;
  name: string | null;
  /** The widget an overlay token opens. */
  widget?: string | null;
  createdAt?: string;
  lastUsedAt?: string | null;
}

/** `POST /api/tokens`: the secret comes back this once. */
export interface CreatedApiToken extends ApiTokenInfo {
  token: string;
}

/** One entry of a 400 PLUGIN_CONFIG_INVALID answer's `problems`. */
export type ConfigProblem = string | { path?: string; instancePath?: string; message?: string; [key: string]: unknown };
