/**
 * Host ↔ overlay constants with no runtime dependencies, safe for the browser bundle: the
 * widgets, the channels each one shows, and the numbers of the overlay protocol
 * (docs/overlay-protocol.md).
 */

export const OVERLAY_WIDGETS = ['alerts', 'chat', 'goals', 'leaderboard', 'counters'] as const;
export type OverlayWidget = (typeof OVERLAY_WIDGETS)[number];

/** The plugin id of channels the host itself publishes (plugins may not publish under it). */
export const HOST_PUBLISHER = 'host';
export const COUNTERS_CHANNEL_NAME = 'counters';
export const COUNTERS_CHANNEL = `${HOST_PUBLISHER}/${COUNTERS_CHANNEL_NAME}` as const;

/** The channels (`<pluginId>/<channel>`) each widget receives; its hello lists them. */
export const WIDGET_CHANNELS = {
  // The rules plugin's overlay actions (channel `rules`) show as alerts too.
  alerts: ['alerts/alerts', 'rules/rules'],
  chat: ['chat/chat'],
  goals: ['goals/goals'],
  leaderboard: ['leaderboard/leaderboard'],
  counters: [COUNTERS_CHANNEL],
} as const satisfies Readonly<Record<OverlayWidget, readonly string[]>>;

/** A running plugin this many events behind the stream is shown as behind (it reads at its own pace). */
export const PLUGIN_BEHIND_EVENTS = 100;

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

/** Largest frame a client may send; larger ones close the socket with CLOSE_MESSAGE_TOO_BIG. */
export const CLIENT_FRAME_MAX_BYTES = 16 * 1024;
