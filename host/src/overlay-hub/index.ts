/** The overlay hub, the admin live feed and their WebSocket routes, for the app to wire in. */
export { OverlayHub, OVERLAY_HUB_GROUP_PREFIX, type OverlayHubOptions, type SocketOwner } from './hub.ts';
export { LiveFeed, LIVE_FEED_GROUP_PREFIX, type LiveFeedOptions } from './live-feed.ts';
export { HOST_WIDGETS } from './host-widgets.ts';
export { StreamCounters, startCounters, COUNTERS_GROUP_PREFIX, type HostCounters, type StreamCountersState } from './counters.ts';
export { overlaySocketRoutes, SOCKET_ERROR_CODES, type OverlaySocketRoutesOptions } from './routes.ts';
export {
  CLIENT_FRAME_MAX_BYTES,
  COUNTERS_CHANNEL,
  PROTOCOL_DEFAULTS,
  type ServerFrame,
} from './protocol.ts';
