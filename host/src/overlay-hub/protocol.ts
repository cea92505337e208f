/**
 * The overlay WebSocket protocol (docs/overlay-protocol.md): widgets and their channels, the
 * frames both sides send, and the numbers the two sides agree on.
 */
import Type, { type Static } from 'typebox';
import { Ajv } from 'ajv';

export const OVERLAY_WIDGETS = ['alerts', 'chat', 'goals', 'leaderboard', 'counters'] as const;
export type OverlayWidget = (typeof OVERLAY_WIDGETS)[number];

/** The plugin id of channels the host itself publishes (plugins may not publish under it). */
export const HOST_PUBLISHER = 'host';
export const COUNTERS_CHANNEL_NAME = 'counters';
export const COUNTERS_CHANNEL = `${HOST_PUBLISHER}/${COUNTERS_CHANNEL_NAME}`;

/** The channels (`<pluginId>/<channel>`) each widget receives. */
export const WIDGET_CHANNELS: Readonly<Record<OverlayWidget, readonly string[]>> = {
  // The rules plugin's overlay actions (channel `rules`) show as alerts too.
  alerts: ['alerts/alerts', 'rules/rules'],
  chat: ['chat/chat'],
  goals: ['goals/goals'],
  leaderboard: ['leaderboard/leaderboard'],
  counters: [COUNTERS_CHANNEL],
};

export function isOverlayWidget(name: string): name is OverlayWidget {
  return (OVERLAY_WIDGETS as readonly string[]).includes(name);
}

export function channelKey(pluginId: string, channel: string): string {
  return `${pluginId}/${channel}`;
}

/** Close codes the host uses on overlay and live-feed sockets. */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_MESSAGE_TOO_BIG = 1009;
export const CLOSE_TOO_SLOW = 4008;

/** Largest frame a client may send; the app gives it to @fastify/websocket as `maxPayload`. */
export const CLIENT_FRAME_MAX_BYTES = 16 * 1024;

export const PROTOCOL_DEFAULTS = {
  /** Message frames each channel keeps for resuming clients. */
  bufferSize: 500,
  /** Bytes a socket may have queued (ws buffer + kernel-side backlog) before it is closed as too slow. */
  maxBufferedBytes: 1024 * 1024,
  /** Browsers cannot see WebSocket ping frames, so the server also sends a JSON ping this often. */
  pingIntervalMs: 15_000,
  /** A client that has not sent `resume` by then is treated as a fresh one. */
  resumeTimeoutMs: 5_000,
  /** A client closed as too slow is dropped this long after its close frame, read or not. */
  slowCloseGraceMs: 5_000,
  /** `host/counters` state frames are published at most this often. */
  countersIntervalMs: 250,
} as const;

/** The one frame a client sends, once after every open. */
export const ResumeFrameSchema = Type.Object({
  type: Type.Literal('resume'),
  epoch: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
  last: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { maxProperties: 64 }),
});
export type ResumeFrame = Static<typeof ResumeFrameSchema>;

/** What plugins publish on the bus's `overlay` stream (`OverlayMessage` of the plugin host), as the hub accepts it. */
export const OverlayEntrySchema = Type.Object({
  pluginId: Type.String({ minLength: 1, maxLength: 128 }),
  channel: Type.String({ minLength: 1, maxLength: 128 }),
  kind: Type.Union([Type.Literal('message'), Type.Literal('state')]),
  data: Type.Unknown(),
  eventId: Type.Optional(Type.String({ maxLength: 128 })),
  at: Type.String({ maxLength: 64 }),
});
export type OverlayEntry = Static<typeof OverlayEntrySchema>;

const ajv = new Ajv({ strict: true, allowUnionTypes: true });
export const isResumeFrame = ajv.compile<ResumeFrame>(ResumeFrameSchema);
export const isOverlayEntry = ajv.compile<OverlayEntry>(OverlayEntrySchema);

/** Server → client frames (the JSON text of each). */
export interface HelloFrame {
  type: 'hello';
  epoch: string;
  widget: OverlayWidget;
  channels: string[];
}
export interface ResetFrame {
  type: 'reset';
  channel: string;
  seq: number;
  state: unknown;
}
export interface MessageFrame {
  type: 'message';
  channel: string;
  seq: number;
  pluginId: string;
  data: unknown;
  eventId?: string;
  at: string;
}
export interface StateFrame {
  type: 'state';
  channel: string;
  seq: number;
  pluginId: string;
  data: unknown;
  at: string;
}
export interface PingFrame {
  type: 'ping';
}
export interface EventFrame {
  type: 'event';
  event: unknown;
}
export type ServerFrame = HelloFrame | ResetFrame | MessageFrame | StateFrame | PingFrame | EventFrame;

export const PING_TEXT = JSON.stringify({ type: 'ping' } satisfies PingFrame);
