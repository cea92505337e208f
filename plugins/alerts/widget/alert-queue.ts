/**
 * The alerts widget's queue: one alert on screen at a time, the others waiting. A message with an
 * alertId already shown or waiting replaces that alert in place (a gift streak counting up), and
 * on screen restarts its time from this latest message. So that the alerts keep up with a busy
 * stream: an alert worth `bigValue` or more (a big gift) goes before every smaller one waiting;
 * alerts of one group waiting at once become one ("12 new followers"); an alert that waited
 * `maxWaitMs` without coming on is dropped, and counted.
 */
import { safeImageUrl } from '@ttlp/sdk/widget';

/** The alerts plugin's kinds of alert (plugins/alerts/README.md). */
export const ALERT_TYPES = ['follow', 'share', 'subscribe', 'gift'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export interface AlertMessage {
  type: AlertType;
  alertId: string;
  update: boolean;
  final: boolean;
  text: string;
  /** The plugin's show time for this message, ms. */
  durationMs: number;
  imageUrl: string | null;
  avatarUrl: string | null;
  count: number | null;
  /** A gift's coins; null for the other types. */
  coins: number | null;
  /** What the alert is worth to the queue (a gift's coins, 0 for the others). */
  value: number;
  /** Alerts of one `key` waiting at once are shown as one: `template` with `{count}` replaced. */
  group: { key: string; template: string } | null;
}

export interface WaitingAlert extends AlertMessage {
  /** When its first message arrived: what `maxWaitMs` counts from. */
  receivedAt: number;
  /** How many alerts it stands for (more than 1 once a group's alerts were put together). */
  members: number;
}

export interface ShownAlert extends WaitingAlert {
  /** When this alert came on screen (unchanged by its updates). */
  shownAt: number;
  endsAt: number;
  /** Counts the updates applied while on screen, so a view can mark the change. */
  revision: number;
}

const finiteOr = <T>(value: unknown, fallback: T): number | T => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

function groupOf(value: unknown): AlertMessage['group'] {
  if (value === null || typeof value !== 'object') return null;
  const { key, template } = value as Record<string, unknown>;
  if (typeof key !== 'string' || key === '' || key.length > 64 || typeof template !== 'string' || !template.includes('{count}')) return null;
  return { key, template: template.slice(0, 200) };
}

/** The alerts plugin's message (plugins/alerts/README.md); null when it is not one. */
export function parseAlertMessage(data: unknown): AlertMessage | null {
  if (data === null || typeof data !== 'object') return null;
  const message = data as Record<string, unknown>;
  const type = message.type;
  if (typeof type !== 'string' || !(ALERT_TYPES as readonly string[]).includes(type)) return null;
  if (typeof message.alertId !== 'string' || message.alertId === '') return null;
  if (typeof message.text !== 'string') return null;
  const user = message.user !== null && typeof message.user === 'object' ? (message.user as Record<string, unknown>) : {};
  const coins = type === 'gift' ? finiteOr(message.coins, null) : null;
  return {
    type: type as AlertType,
    alertId: message.alertId,
    update: message.update === true,
    final: message.final !== false,
    text: message.text.slice(0, 1000),
    durationMs: finiteOr(message.durationMs, 5000),
    imageUrl: safeImageUrl(message.giftImageUrl),
    avatarUrl: safeImageUrl(user.avatarUrl),
    count: finiteOr(message.count, null),
    coins,
    value: Math.max(0, finiteOr(message.value, coins ?? 0)),
    group: groupOf(message.group),
  };
}

export interface AlertQueueOptions {
  /** Show time of an alert, ms (the plugin's durationMs, or an override from the URL). */
  durationOf: (alert: AlertMessage) => number;
  /** Pause between two alerts, so one can fade out before the next comes in. */
  gapMs?: number;
  /** Waiting alerts beyond this drop the oldest waiting one that is not big. */
  maxWaiting?: number;
  /** An alert worth this much or more goes before every smaller one waiting (and is never dropped); unset: none. */
  bigValue?: number;
  /** An alert that is not big and waited this long without coming on is dropped; unset: none is. */
  maxWaitMs?: number;
  /** Put the alerts of one group waiting at once together into one. */
  coalesce?: boolean;
}

export class AlertQueue {
  readonly #durationOf: (alert: AlertMessage) => number;
  readonly #gapMs: number;
  readonly #maxWaiting: number;
  readonly #bigValue: number;
  readonly #maxWaitMs: number;
  readonly #coalesce: boolean;
  #current: ShownAlert | null = null;
  #waiting: WaitingAlert[] = [];
  #idleUntil = 0;
  #dropped = 0;

  constructor(options: AlertQueueOptions) {
    this.#durationOf = options.durationOf;
    this.#gapMs = options.gapMs ?? 400;
    this.#maxWaiting = options.maxWaiting ?? 100;
    this.#bigValue = options.bigValue ?? Number.POSITIVE_INFINITY;
    this.#maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
    this.#coalesce = options.coalesce ?? false;
  }

  /** The alert on screen; a new object whenever it changes. */
  get current(): ShownAlert | null {
    return this.#current;
  }

  get waiting(): readonly WaitingAlert[] {
    return this.#waiting;
  }

  /** Alerts dropped so far: waited too long, or pushed out of a full queue. */
  get dropped(): number {
    return this.#dropped;
  }

  receive(alert: AlertMessage, now: number): void {
    const current = this.#current;
    if (current !== null && current.alertId === alert.alertId) {
      this.#current = { ...alert, receivedAt: current.receivedAt, members: current.members, shownAt: current.shownAt, endsAt: now + this.#durationOf(alert), revision: current.revision + 1 };
      return;
    }
    const index = this.#waiting.findIndex((waiting) => waiting.alertId === alert.alertId);
    if (index >= 0) {
      // An update (a streak counting up) may make it big: it takes its place again.
      const [replaced] = this.#waiting.splice(index, 1);
      this.#place({ ...alert, receivedAt: replaced!.receivedAt, members: replaced!.members }, index);
      return;
    }
    const group = this.#coalesce && alert.group !== null ? this.#waiting.find((waiting) => waiting.group?.key === alert.group!.key) : undefined;
    if (group) {
      group.members += 1;
      // Several viewers: one text for all of them, no one's picture.
      Object.assign(group, { text: alert.group!.template.replaceAll('{count}', String(group.members)), avatarUrl: null, imageUrl: null });
      return;
    }
    this.#place({ ...alert, receivedAt: now, members: 1 }, this.#waiting.length);
    if (this.#waiting.length > this.#maxWaiting) {
      const oldest = this.#waiting.findIndex((waiting) => !this.#big(waiting));
      const [gone] = this.#waiting.splice(oldest >= 0 ? oldest : 0, 1);
      this.#dropped += gone!.members;
    }
    this.advance(now);
  }

  /** Ends the alert whose time is up, drops those that waited too long, and brings on the next one when the pause is over. */
  advance(now: number): void {
    if (this.#current !== null && now >= this.#current.endsAt) {
      this.#idleUntil = this.#current.endsAt + this.#gapMs;
      this.#current = null;
    }
    const stale = this.#waiting.filter((waiting) => !this.#big(waiting) && now - waiting.receivedAt >= this.#maxWaitMs);
    if (stale.length > 0) {
      this.#waiting = this.#waiting.filter((waiting) => !stale.includes(waiting));
      for (const gone of stale) this.#dropped += gone.members;
    }
    if (this.#current === null && now >= this.#idleUntil) {
      const next = this.#waiting.shift();
      if (next !== undefined) this.#current = { ...next, shownAt: now, endsAt: now + this.#durationOf(next), revision: 0 };
    }
  }

  /** When `advance` next has something to do, or null when nothing is on screen or waiting. */
  nextDeadline(): number | null {
    if (this.#current !== null) return this.#current.endsAt;
    if (this.#waiting.length > 0) return this.#idleUntil;
    return null;
  }

  #big(alert: AlertMessage): boolean {
    return alert.value >= this.#bigValue;
  }

  /** Puts `alert` at `index`, or, when it is big, before every smaller alert waiting (big ones keep their order). */
  #place(alert: WaitingAlert, index: number): void {
    const firstSmall = this.#waiting.findIndex((waiting) => !this.#big(waiting));
    const at = this.#big(alert) && firstSmall >= 0 ? Math.min(index, firstSmall) : index;
    this.#waiting.splice(at, 0, alert);
  }
}

/** The URL's show times: `duration` for every alert, `<type>Ms` for one type; unset: the plugin's. */
export type AlertDurations = { duration?: number } & Partial<Record<`${AlertType}Ms`, number>>;

export function alertDuration(alert: AlertMessage, overrides: AlertDurations): number {
  const ms = overrides.duration ?? overrides[`${alert.type}Ms`] ?? alert.durationMs;
  return Math.min(600_000, Math.max(100, ms));
}
