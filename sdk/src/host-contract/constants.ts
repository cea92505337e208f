/**
 * Host ↔ overlay constants with no runtime dependencies, safe for the browser bundle: the host's
 * own channel and the numbers of the overlay protocol (docs/overlay-protocol.md).
 */

/** The plugin id of channels the host itself publishes (plugins may not publish under it). */
export const HOST_PUBLISHER = 'host';
export const COUNTERS_CHANNEL_NAME = 'counters';
export const COUNTERS_CHANNEL = `${HOST_PUBLISHER}/${COUNTERS_CHANNEL_NAME}` as const;

/** The state of `host/counters`: the latest session's tallies, which the host's counters widget shows. */
export interface CountersState {
  sessionId: string | null;
  /** `totalLikeCount` of the latest LIKE. */
  likes: number;
  /** `viewerCount` of the latest JOIN that carried one. */
  viewers: number | null;
  follows: number;
  shares: number;
  /** Coins of gifts, each streak credited once as it runs (`GiftStreaks`). */
  coins: number;
}

/** A running plugin this many events behind the stream is shown as behind (it reads at its own pace). */
export const PLUGIN_BEHIND_EVENTS = 100;

export function channelKey(pluginId: string, channel: string): string {
  return `${pluginId}/${channel}`;
}

/** Close codes the host uses on overlay and live-feed sockets. */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_MESSAGE_TOO_BIG = 1009;
export const CLOSE_TOO_SLOW = 4008;

/** Largest frame a client may send; larger ones close the socket with CLOSE_MESSAGE_TOO_BIG. */
export const CLIENT_FRAME_MAX_BYTES = 16 * 1024;
