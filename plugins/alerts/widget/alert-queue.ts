/**
 * The alerts widget's queue: one alert on screen at a time, the others waiting in order. A
 * message with an alertId already shown or waiting replaces that alert in place (a gift
 * streak counting up), and on screen restarts its time from this latest message.
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
}

export interface ShownAlert extends AlertMessage {
  /** When this alert came on screen (unchanged by its updates). */
  shownAt: number;
  endsAt: number;
  /** Counts the updates applied while on screen, so a view can mark the change. */
  revision: number;
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
  return {
    type: type as AlertType,
    alertId: message.alertId,
    update: message.update === true,
    final: message.final !== false,
    text: message.text.slice(0, 1000),
    durationMs: typeof message.durationMs === 'number' && Number.isFinite(message.durationMs) ? message.durationMs : 5000,
    imageUrl: safeImageUrl(message.giftImageUrl),
    avatarUrl: safeImageUrl(user.avatarUrl),
    count: typeof message.count === 'number' && Number.isFinite(message.count) ? message.count : null,
  };
}

export interface AlertQueueOptions {
  /** Show time of an alert, ms (the plugin's durationMs, or an override from the URL). */
  durationOf: (alert: AlertMessage) => number;
  /** Pause between two alerts, so one can fade out before the next comes in. */
  gapMs?: number;
  /** Waiting alerts beyond this drop the oldest waiting one. */
  maxWaiting?: number;
}

export class AlertQueue {
  readonly #durationOf: (alert: AlertMessage) => number;
  readonly #gapMs: number;
  readonly #maxWaiting: number;
  #current: ShownAlert | null = null;
  #waiting: AlertMessage[] = [];
  #idleUntil = 0;

  constructor(options: AlertQueueOptions) {
    this.#durationOf = options.durationOf;
    this.#gapMs = options.gapMs ?? 400;
    this.#maxWaiting = options.maxWaiting ?? 100;
  }

  /** The alert on screen; a new object whenever it changes. */
  get current(): ShownAlert | null {
    return this.#current;
  }

  get waiting(): readonly AlertMessage[] {
    return this.#waiting;
  }

  receive(alert: AlertMessage, now: number): void {
    if (this.#current !== null && this.#current.alertId === alert.alertId) {
      this.#current = {
        ...alert,
        shownAt: this.#current.shownAt,
        endsAt: now + this.#durationOf(alert),
        revision: this.#current.revision + 1,
      };
      return;
    }
    const index = this.#waiting.findIndex((waiting) => waiting.alertId === alert.alertId);
    if (index >= 0) {
      this.#waiting[index] = alert;
      return;
    }
    this.#waiting.push(alert);
    if (this.#waiting.length > this.#maxWaiting) this.#waiting.shift();
    this.advance(now);
  }

  /** Ends the alert whose time is up and brings on the next one when the pause is over. */
  advance(now: number): void {
    if (this.#current !== null && now >= this.#current.endsAt) {
      this.#idleUntil = this.#current.endsAt + this.#gapMs;
      this.#current = null;
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
}

/** The URL's show times: `duration` for every alert, `<type>Ms` for one type; unset: the plugin's. */
export type AlertDurations = { duration?: number } & Partial<Record<`${AlertType}Ms`, number>>;

export function alertDuration(alert: AlertMessage, overrides: AlertDurations): number {
  const ms = overrides.duration ?? overrides[`${alert.type}Ms`] ?? alert.durationMs;
  return Math.min(600_000, Math.max(100, ms));
}
