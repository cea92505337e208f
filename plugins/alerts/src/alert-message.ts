import type { EventUser } from '@ttlp/sdk';

/** Who an alert is about, as overlays show them. */
export type AlertUser = { uniqueId: string; displayName: string; avatarUrl: string | null };

type AlertFields = {
  /** Identifies the alert: an update carries the alertId of the alert it changes. */
  alertId: string;
  /** False for the first message of an alert, true for one that replaces an alert already sent. */
  update: boolean;
  /** True when no further message for this alertId follows. */
  final: boolean;
  text: string;
  /** How long to show the alert, counted from its latest message. */
  durationMs: number;
  user: AlertUser;
  /** What the alert is worth, for the widget's queue: a gift's coins, 0 for the others. */
  value: number;
  /**
   * Alerts of one `key` waiting at once may be shown as one, whose text is `template` with
   * `{count}` replaced; null: shown one by one (gifts).
   */
  group: { key: string; template: string } | null;
};

/** What the plugin sends on the `alerts` overlay channel (see README.md). */
export type AlertMessage =
  | (AlertFields & { type: 'follow' | 'share' })
  | (AlertFields & { type: 'subscribe'; subMonth: number | null })
  | (AlertFields & { type: 'gift'; giftName: string; giftImageUrl: string | null; count: number; coins: number });

export function alertUser(user: EventUser): AlertUser {
  return { uniqueId: user.uniqueId, displayName: user.displayName || user.uniqueId, avatarUrl: user.avatarUrl ?? null };
}

/** The template values every alert has. */
export function userValues(user: AlertUser): { user: string; uniqueId: string } {
  return { user: user.displayName, uniqueId: user.uniqueId };
}
