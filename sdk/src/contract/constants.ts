/** Contract constants with no runtime dependencies, safe to bundle into plugins. */

export const UNIFIED_EVENT_SCHEMA_VERSION = '1';
export const RAW_ENVELOPE_SCHEMA_VERSION = 'raw.v1';

/** Lifecycle events carry this user (they are not caused by a viewer). */
export const SYSTEM_USER = { userId: '0', uniqueId: 'system' } as const;

/** Canonical displayType values of FOLLOW and SHARE payloads. */
export const FOLLOW_DISPLAY_TYPE = 'pm_mt_msg_viewer_follow';
export const SHARE_DISPLAY_TYPE = 'pm_mt_msg_viewer_share';

/** eventType → triggerId, as fixed by UnifiedEvent v1. */
export const TRIGGER_IDS = {
  CHAT: 1,
  GIFT: 2,
  LIKE: 3,
  FOLLOW: 4,
  SHARE: 5,
  JOIN: 6,
  SUBSCRIBE: 7,
  EMOTE: 8,
  BATTLE: 9,
  CONNECTED: 10,
  DISCONNECTED: 11,
  ERROR: 12,
  RAW: 13,
} as const;

export type EventType = keyof typeof TRIGGER_IDS;
export const EVENT_TYPES = Object.keys(TRIGGER_IDS) as EventType[];

/** Envelope types of provider lifecycle messages (all other types are Webcast message names). */
export const LIFECYCLE_TYPES = ['connected', 'disconnected', 'error'] as const;
export type LifecycleType = (typeof LIFECYCLE_TYPES)[number];

/** True for an envelope type that is provider lifecycle rather than a Webcast message. */
export function isLifecycleType(type: unknown): type is LifecycleType {
  return (LIFECYCLE_TYPES as readonly unknown[]).includes(type);
}
