/**
 * @ttlp/sdk/widget — what a plugin's overlay widget imports (browser code): `openWidget()` and
 * its types; the protocol's client side, also used by the first-party widgets and the settings page.
 */
export { openWidget, readPageConfig, type MessageMeta, type Widget } from './widget.ts';
export { WIDGET_CONFIG_ELEMENT_ID, WIDGET_ROOT_ELEMENT_ID, type IgnoredOption, type WidgetPageConfig } from '../host-contract/widget-page.ts';
export { applyLook, cssColor, fontFamily, lookOf } from './look.ts';
export { asCount, asRecord, asText, nounFor, safeImageUrl, type CountNoun } from './display.ts';
export { LOOK_DEFAULTS, LOOK_OPTIONS, LOOK_POSITIONS, type Look, type LookPosition } from '../widget-look.ts';
export { ReconnectingSocket, reconnectDelay, sameHostSocketUrl, type ReconnectingSocketOptions, type SocketStatus } from './reconnecting-socket.ts';
export { OverlayResumeCursor, type OverlayDelivery, type OverlayStep } from './resume-cursor.ts';
