/**
 * The bodies the host's HTTP API answers with, as TypeBox: the host registers them as fastify
 * response schemas (and serializes with them), the settings page reads them as types.
 * Data the host does not own (plugin settings and their schemas, stored events, what a plugin
 * did in a dry run) is declared open, so no field of it is dropped on the way out.
 */
import Type, { type Static, type TSchema } from 'typebox';
import type { UnifiedEvent } from '../contract/unified-event.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Instant = Type.String({ format: 'date-time' });
const OpenObject = Type.Record(Type.String(), Type.Unknown());
/**
 * A UnifiedEvent, declared open: the contract was checked when it entered the bus, and
 * serializing with its thirteen variants would validate every event again to pick one.
 */
const StoredEvent = Type.Unsafe<UnifiedEvent>(Type.Object({}, { additionalProperties: true }));

/** Every error: a stable `code`, a message, and for some codes details. */
export const ApiErrorSchema = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    /** INVALID_REQUEST, PLUGIN_CONFIG_INVALID: what is wrong, one line each (a JSON pointer first, when there is one). */
    problems: Type.Optional(Type.Array(Type.String())),
    /** AUTH_RATE_LIMITED: seconds to wait, as in the retry-after header. */
    retryAfter: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: true },
);
export type ApiErrorBody = Static<typeof ApiErrorSchema>;

/** An answer with no body (204). */
export const NoContentSchema = Type.Null();

/** `offline`: not live, checked again later; `disconnected`: the connection failed or dropped, waiting to retry. */
const IngestState = Type.Union([Type.Literal('connecting'), Type.Literal('connected'), Type.Literal('offline'), Type.Literal('disconnected'), Type.Literal('stopped')]);

const ComponentHealth = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('fail')]),
  detail: Type.Optional(Type.String()),
});

/** `GET /health` (200, or 503 when a component fails): no errors or ids, only what a monitor needs. */
export const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('fail')]),
  failing: Type.Array(Type.String()),
  components: Type.Object({ storage: ComponentHealth, bus: ComponentHealth, provider: ComponentHealth, plugins: ComponentHealth }),
  streams: Type.Array(
    Type.Object({ provider: Type.String(), user: Nullable(Type.String()), state: IngestState, reconnects: Type.Integer({ minimum: 0 }) }),
  ),
});
export type Health = Static<typeof HealthSchema>;

/** `GET /metrics`: Prometheus' text exposition format. */
export const MetricsTextSchema = Type.String();

/** One followed stream's ingest. */
export const IngestStatusSchema = Type.Object({
  /** `demo`, `direct`, `euler`, `capture`. */
  name: Type.String(),
  state: IngestState,
  user: Nullable(Type.String()),
  streamId: Nullable(Type.String()),
  sessionId: Nullable(Type.String()),
  /** Connections made after the first. */
  reconnects: Type.Integer({ minimum: 0 }),
  lastError: Nullable(Type.String()),
});
export type IngestStatus = Static<typeof IngestStatusSchema>;

/** `GET /api/status`: the settings page's connection status. */
export const HostStatusSchema = Type.Object({
  provider: Type.Array(IngestStatusSchema),
  bus: Type.Object({ kind: Type.String(), ok: Type.Boolean() }),
  storage: Type.Object({ driver: Type.String(), ok: Type.Boolean() }),
  plugins: Type.Object({
    running: Type.Array(Type.String()),
    /** Plugins that faulted (running or disabled since), and those whose setup failed. */
    faulted: Type.Array(Type.String()),
    /** Running plugins at least `PLUGIN_BEHIND_EVENTS` behind the stream, with how far. */
    behind: Type.Array(Type.Object({ id: Type.String(), events: Type.Integer({ minimum: 0 }) })),
  }),
});
export type HostStatus = Static<typeof HostStatusSchema>;

const TokenKind = Type.Union([Type.Literal('admin'), Type.Literal('api'), Type.Literal('overlay')]);

/** `GET /api/auth/me`: who is asking. */
export const PrincipalSchema = Type.Object({
  kind: TokenKind,
  tokenId: Type.String(),
  /** Overlay tokens: the widget the token opens. */
  widget: Type.Optional(Type.String()),
});
export type PrincipalView = Static<typeof PrincipalSchema>;

/** A plugin as the settings page shows it. */
/** The limits the host runs a plugin within (its sandbox limits, as the settings page and `ttlp plugin list` show them). */
export const PluginQuotasSchema = Type.Object({
  /** The isolate's heap. */
  memoryMb: Type.Integer({ minimum: 0 }),
  cpuMsPerSecond: Type.Integer({ minimum: 0 }),
  /** Overlay messages of one run: one event, one timer, setup. */
  overlayPerRun: Type.Integer({ minimum: 0 }),
  overlayPerSecond: Type.Integer({ minimum: 0 }),
  kvKeys: Type.Integer({ minimum: 0 }),
  kvBytes: Type.Integer({ minimum: 0 }),
  logLinesPerSecond: Type.Integer({ minimum: 0 }),
  logBytesPerSecond: Type.Integer({ minimum: 0 }),
  httpPerMinute: Type.Integer({ minimum: 0 }),
  /** Timers alive at once, intervals included. */
  timers: Type.Integer({ minimum: 0 }),
});
export type PluginQuotas = Static<typeof PluginQuotasSchema>;

export const PluginViewSchema = Type.Object({
  id: Type.String(),
  displayName: Type.String(),
  version: Type.String(),
  description: Nullable(Type.String()),
  enabled: Type.Boolean(),
  /** Loaded in this host's plugin runtime. */
  running: Type.Boolean(),
  /**
   * A few words for people: running, running (faulted), failed (enabled, but its setup failed, so it
   * does not run), enabled (not running), disabled, disabled (faulted).
   */
  state: Type.String(),
  /** As stored: installed (never enabled), enabled, faulted, failed (its setup failed), disabled. */
  status: Type.String(),
  /** The folder the host loaded it from. */
  dir: Type.String(),
  requestedPermissions: Type.Array(Type.String()),
  grantedPermissions: Type.Array(Type.String()),
  /** The manifest's JSON Schema of the settings. */
  configSchema: OpenObject,
  config: OpenObject,
  overlayChannels: Type.Array(Type.String()),
  faultCount: Type.Integer({ minimum: 0 }),
  lastError: Nullable(Type.String()),
  /** Events of the stream the running plugin has yet to handle (it reads at its own pace); null when it is not running. */
  lag: Nullable(Type.Integer({ minimum: 0 })),
  quotas: PluginQuotasSchema,
});
export type PluginView = Static<typeof PluginViewSchema>;

/** `GET /api/plugins`; `problems`: plugin folders found but not loadable, in words. */
export const PluginListSchema = Type.Object({
  plugins: Type.Array(PluginViewSchema),
  problems: Type.Array(Type.Object({ dir: Type.String(), problems: Type.Array(Type.String()) })),
});
export type PluginList = Static<typeof PluginListSchema>;

/** `POST /api/plugins/:id/dry-run`: what the plugin would have done with the event, nothing of it done. */
export const DryRunSchema = Type.Object({
  event: StoredEvent,
  overlay: Type.Array(
    Type.Object({
      channel: Type.String(),
      kind: Type.Union([Type.Literal('message'), Type.Literal('state')]),
      data: Type.Unknown(),
      eventId: Type.Optional(Type.String()),
    }),
  ),
  logs: Type.Array(Type.Object({ level: Type.String(), message: Type.String(), fields: Type.Optional(OpenObject) })),
  kvChanges: Type.Array(
    Type.Object({ op: Type.Union([Type.Literal('set'), Type.Literal('delete')]), key: Type.String(), value: Type.Optional(Type.Unknown()) }),
  ),
  httpRequests: Type.Array(
    Type.Object({ url: Type.String(), method: Type.String(), headers: Type.Record(Type.String(), Type.String()), body: Type.Optional(Type.String()) }),
  ),
  faults: Type.Array(Type.Object({ kind: Type.String(), message: Type.String() })),
});
export type DryRun = Static<typeof DryRunSchema>;

/** `POST /api/events/test` (202). */
export const TestEventAcceptedSchema = Type.Object({ eventId: Type.String(), sessionId: Type.String() });
export type TestEventAccepted = Static<typeof TestEventAcceptedSchema>;

/** `GET /api/streams`. */
export const StreamListSchema = Type.Object({
  streams: Type.Array(Type.Object({ streamId: Type.String(), uniqueId: Nullable(Type.String()), firstSeenAt: Instant, sessions: Type.Integer({ minimum: 0 }) })),
});
export type StreamList = Static<typeof StreamListSchema>;

/** A stored session with its event count; `replayedFrom`: the session a replay session replays. */
export const SessionSummarySchema = Type.Object({
  sessionId: Type.String(),
  streamId: Type.String(),
  type: Type.String(),
  provider: Type.String(),
  startedAt: Instant,
  endedAt: Nullable(Instant),
  eventCount: Type.Integer({ minimum: 0 }),
  replayedFrom: Nullable(Type.String()),
});
export type SessionSummary = Static<typeof SessionSummarySchema>;

/** `GET /api/sessions`. */
export const SessionListSchema = Type.Object({ sessions: Type.Array(SessionSummarySchema) });
export type SessionList = Static<typeof SessionListSchema>;

/** `GET /api/sessions/:id/events`: a page in receive order; `nextCursor` is null on the last page. */
export const EventPageSchema = Type.Object({ events: Type.Array(StoredEvent), nextCursor: Nullable(Type.String()) });
export type EventPage = Static<typeof EventPageSchema>;

/** `POST /api/sessions/:id/replay` (202): the replay session exists, its events follow. */
export const ReplayStartedSchema = Type.Object({ sessionId: Type.String(), replayedFrom: Type.String() });
export type ReplayStarted = Static<typeof ReplayStartedSchema>;

/** An access token, without its secret. */
export const ApiTokenInfoSchema = Type.Object({
  tokenId: Type.String(),
  kind: TokenKind,
  name: Type.String(),
  /** The widget an overlay token opens. */
  widget: Nullable(Type.String()),
  createdAt: Instant,
  lastUsedAt: Nullable(Instant),
});
export type ApiTokenInfo = Static<typeof ApiTokenInfoSchema>;

/** `GET /api/tokens`. */
export const ApiTokenListSchema = Type.Object({ tokens: Type.Array(ApiTokenInfoSchema) });
export type ApiTokenList = Static<typeof ApiTokenListSchema>;

/** `POST /api/tokens` (201): the secret comes back this once. */
export const CreatedApiTokenSchema = Type.Object({
  tokenId: Type.String(),
  kind: TokenKind,
  name: Type.String(),
  token: Type.String(),
  createdAt: Instant,
});
export type CreatedApiToken = Static<typeof CreatedApiTokenSchema>;

/** A running plugin's widget, beside its URL. */
/**
 * A widget's overlay URL, carrying its read-only token, and what the settings page shows of it:
 * a widget of the host (`host/counters`) or of a running plugin (`<pluginId>/<widgetId>`).
 */
export const OverlayLinkSchema = Type.Object({
  widget: Type.String({ description: '`<pluginId>/<widgetId>`; the host\'s widgets are `host/<widgetId>`' }),
  tokenId: Type.String(),
  url: Type.String(),
  pluginId: Type.String(),
  widgetId: Type.String(),
  displayName: Type.String(),
  /** The size of the OBS browser source it is made for. */
  size: Type.Object({ width: Type.Integer(), height: Type.Integer() }),
  /** JSON Schema of its URL options (the look options included when it has a look); absent when it has none. */
  options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  /** Why it does not build; null when it does. */
  buildError: Type.Union([Type.String(), Type.Null()]),
});
export type OverlayLink = Static<typeof OverlayLinkSchema>;

/** `GET /api/overlays`. */
export const OverlayLinkListSchema = Type.Object({ overlays: Type.Array(OverlayLinkSchema) });
export type OverlayLinkList = Static<typeof OverlayLinkListSchema>;

/** `POST /api/overlays/:pluginId/:widgetId/options`: a widget URL's query, as the widget page would read it. */
export const WidgetOptionsCheckSchema = Type.Object(
  { query: Type.String({ maxLength: 8192, description: 'A widget URL, or its query string' }) },
  { additionalProperties: false },
);
export type WidgetOptionsCheck = Static<typeof WidgetOptionsCheckSchema>;

export const WidgetOptionsReadSchema = Type.Object({
  /** The options the widget gets, defaults filled in. */
  options: Type.Record(Type.String(), Type.Unknown()),
  /** The URL's options the widget ignores, each with why. */
  ignored: Type.Array(Type.Object({ option: Type.String(), reason: Type.String() })),
});
export type WidgetOptionsRead = Static<typeof WidgetOptionsReadSchema>;

/** `POST /api/gdpr/erase`: what the erasure changed (the subject only as its HMAC, as in the audit row). */
export const ErasureSummarySchema = Type.Object({
  rowsAffected: Type.Integer({ minimum: 0 }),
  tablesTouched: Type.Array(Type.String()),
  timestamp: Instant,
  subjectHmac: Type.String(),
  alreadyErased: Type.Boolean(),
});
export type ErasureSummary = Static<typeof ErasureSummarySchema>;
