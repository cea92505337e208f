/**
 * Widget options from the overlay URL's query. Every value is checked against a strict
 * pattern or range and replaced by the default when it does not pass, so query text never
 * reaches CSS or HTML as written.
 */
import { isOverlayWidget, type OverlayWidget } from '@ttlp/sdk';

export const POSITIONS = [
  'top-left',
  'top',
  'top-right',
  'left',
  'center',
  'right',
  'bottom-left',
  'bottom',
  'bottom-right',
] as const;
export type Position = (typeof POSITIONS)[number];

/** The widget named by the last segment of `/overlay/<widget>` (or `?widget=` on the dev server). */
export function widgetFromLocation(location: Pick<Location, 'pathname' | 'search'>): OverlayWidget | null {
  const segments = location.pathname.split('/').filter((segment) => segment !== '');
  let name = segments.at(-1) ?? '';
  if (name === 'overlay.html' || name === '') name = new URLSearchParams(location.search).get('widget') ?? '';
  return isOverlayWidget(name) ? name : null;
}

const HEX_COLOR = /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
const BARE_HEX_COLOR = /^(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
const FUNCTION_COLOR = /^(?:rgba?|hsla?)\(\s*[0-9.]+%?(?:\s*[,\s/]\s*[0-9.]+%?){2,3}\s*\)$/i;
const NAMED_COLOR = /^[a-z]{3,24}$/i;

/** A CSS color: `#rgb[a]`, `#rrggbb[aa]` (the `#` may be left out), `rgb()/rgba()/hsl()/hsla()` with numbers, or a color name. */
export function parseColor(raw: string | null): string | null {
  if (raw === null) return null;
  const value = raw.trim();
  if (BARE_HEX_COLOR.test(value)) return `#${value}`;
  if (!(HEX_COLOR.test(value) || FUNCTION_COLOR.test(value) || NAMED_COLOR.test(value))) return null;
  // The browser has the final word on names like "rebeccapurple" (and rejects made-up ones).
  if (typeof CSS !== 'undefined' && typeof CSS.supports === 'function' && !CSS.supports('color', value)) return null;
  return value;
}

const GENERIC_FONTS = new Set(['serif', 'sans-serif', 'monospace', 'cursive', 'fantasy', 'system-ui', 'ui-sans-serif', 'ui-serif', 'ui-monospace', 'ui-rounded']);
const FONT_NAME = /^[a-z0-9][a-z0-9 _-]{0,63}$/i;

/** A font-family list, e.g. `Poppins, sans-serif`; each family is letters, digits, spaces, `-`, `_`. */
export function parseFont(raw: string | null): string | null {
  if (raw === null) return null;
  const families = raw
    .split(',')
    .map((family) => family.trim().replace(/\s+/g, ' '))
    .filter((family) => family !== '');
  if (families.length === 0 || families.length > 5 || !families.every((family) => FONT_NAME.test(family))) return null;
  const quoted = families.map((family) => (GENERIC_FONTS.has(family.toLowerCase()) ? family.toLowerCase() : `"${family}"`));
  if (!quoted.some((family) => GENERIC_FONTS.has(family))) quoted.push('sans-serif');
  return quoted.join(', ');
}

export function parseInteger(raw: string | null, min: number, max: number): number | null {
  if (raw === null || !/^-?\d{1,9}$/.test(raw.trim())) return null;
  const value = Number(raw.trim());
  return value >= min && value <= max ? value : null;
}

export function parseNumber(raw: string | null, min: number, max: number): number | null {
  if (raw === null || !/^-?(?:\d{1,9}(?:\.\d{0,6})?|\.\d{1,6})$/.test(raw.trim())) return null;
  const value = Number(raw.trim());
  return value >= min && value <= max ? value : null;
}

/** `1`, `true`, `yes`, `on` → true; `0`, `false`, `no`, `off` → false; anything else → null. */
export function parseFlag(raw: string | null): boolean | null {
  if (raw === null) return null;
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on', ''].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  return null;
}

export function parsePosition(raw: string | null): Position | null {
  const value = raw?.trim().toLowerCase() ?? '';
  return (POSITIONS as readonly string[]).includes(value) ? (value as Position) : null;
}

/** A comma-separated subset of `allowed`, in the order written; null when empty or nothing valid. */
export function parseChoices<T extends string>(raw: string | null, allowed: readonly T[]): T[] | null {
  if (raw === null) return null;
  const chosen = raw
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item): item is T => (allowed as readonly string[]).includes(item));
  const unique = [...new Set(chosen)];
  return unique.length > 0 ? unique : null;
}

/** An http(s) URL (absolute, or a path on this host) of a sound file. */
export function parseSoundUrl(raw: string | null, base: string): string | null {
  if (raw === null || raw.trim() === '' || raw.length > 2048) return null;
  try {
    const url = new URL(raw.trim(), base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Only http(s) image URLs from event data are shown. */
export function safeImageUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2048) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

export interface LookOptions {
  color: string;
  bg: string;
  accent: string;
  /** Text outline color, or null for none. */
  shadow: string | null;
  font: string;
  fontSize: number;
  position: Position;
  /** Distance from the edges of the 1920×1080 canvas, px. */
  margin: number;
  /** Panel width, px (null: as wide as the content needs). */
  width: number | null;
  debug: boolean;
}

export const DEFAULT_FONT = '"Inter", "Segoe UI", "Roboto", "Helvetica Neue", Arial, sans-serif';

/** Options every widget understands; `defaults` are the widget's own. */
export function readLookOptions(params: URLSearchParams, defaults: Partial<LookOptions> = {}): LookOptions {
  const shadowRaw = params.get('shadow');
  return {
    color: parseColor(params.get('color')) ?? defaults.color ?? '#ffffff',
    bg: parseColor(params.get('bg')) ?? defaults.bg ?? 'rgba(12, 12, 20, 0.6)',
    accent: parseColor(params.get('accent')) ?? defaults.accent ?? '#25f4ee',
    shadow: shadowRaw?.trim().toLowerCase() === 'none' ? null : (parseColor(shadowRaw) ?? defaults.shadow ?? 'rgba(0, 0, 0, 0.85)'),
    font: parseFont(params.get('font')) ?? defaults.font ?? DEFAULT_FONT,
    fontSize: parseInteger(params.get('fontSize'), 8, 200) ?? defaults.fontSize ?? 28,
    position: parsePosition(params.get('position')) ?? defaults.position ?? 'top-left',
    margin: parseInteger(params.get('margin'), 0, 1000) ?? defaults.margin ?? 40,
    width: parseInteger(params.get('width'), 50, 1920) ?? defaults.width ?? null,
    debug: parseFlag(params.get('debug')) === true,
  };
}

/** `rule`: a message of the rules plugin's overlay action. */
export const ALERT_TYPES = ['follow', 'share', 'subscribe', 'gift', 'rule'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export interface AlertOptions {
  /** Overrides every alert's duration, ms. */
  duration: number | null;
  /** Overrides per alert type, ms (`followMs`, `shareMs`, `subscribeMs`, `giftMs`, `ruleMs`). */
  durations: Partial<Record<AlertType, number>>;
  /** Sound played when an alert appears (not on its updates); null: silent. */
  sound: string | null;
  volume: number;
  /** Show the gift picture and the viewer's avatar. */
  images: boolean;
}

const DURATION_MIN_MS = 100;
const DURATION_MAX_MS = 600_000;

export function readAlertOptions(params: URLSearchParams, base: string): AlertOptions {
  const durations: Partial<Record<AlertType, number>> = {};
  for (const type of ALERT_TYPES) {
    const value = parseInteger(params.get(`${type}Ms`), DURATION_MIN_MS, DURATION_MAX_MS);
    if (value !== null) durations[type] = value;
  }
  return {
    duration: parseInteger(params.get('duration'), DURATION_MIN_MS, DURATION_MAX_MS),
    durations,
    sound: parseSoundUrl(params.get('sound'), base),
    volume: parseNumber(params.get('volume'), 0, 1) ?? 0.8,
    images: parseFlag(params.get('images')) ?? true,
  };
}

export interface ChatOptions {
  max: number;
  /** A line fades out this long after it appeared, ms; 0 keeps lines until pushed out. */
  fadeMs: number;
  avatars: boolean;
  badges: boolean;
}

export function readChatOptions(params: URLSearchParams): ChatOptions {
  return {
    max: parseInteger(params.get('max'), 1, 50) ?? 10,
    fadeMs: parseInteger(params.get('fadeMs'), 0, 3_600_000) ?? 30_000,
    avatars: parseFlag(params.get('avatars')) ?? false,
    badges: parseFlag(params.get('badges')) ?? true,
  };
}

export interface GoalOptions {
  /** Only these goal ids, in this order; null: all goals in the plugin's order. */
  ids: string[] | null;
}

const GOAL_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function readGoalOptions(params: URLSearchParams): GoalOptions {
  const ids = (params.get('ids') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => GOAL_ID.test(id));
  return { ids: ids.length > 0 ? [...new Set(ids)] : null };
}

export const LEADERBOARD_LISTS = ['gifters', 'likers'] as const;
export type LeaderboardList = (typeof LEADERBOARD_LISTS)[number];

export interface LeaderboardOptions {
  max: number;
  show: LeaderboardList[];
  avatars: boolean;
  titles: boolean;
}

export function readLeaderboardOptions(params: URLSearchParams): LeaderboardOptions {
  return {
    max: parseInteger(params.get('max'), 1, 100) ?? 5,
    show: parseChoices(params.get('show'), LEADERBOARD_LISTS) ?? ['gifters', 'likers'],
    avatars: parseFlag(params.get('avatars')) ?? false,
    titles: parseFlag(params.get('titles')) ?? true,
  };
}

export const COUNTERS = ['likes', 'viewers', 'follows', 'shares', 'coins'] as const;
export type CounterName = (typeof COUNTERS)[number];

export interface CounterOptions {
  show: CounterName[];
  labels: boolean;
  /** 12.3K instead of 12,345. */
  compact: boolean;
  layout: 'row' | 'column';
}

export function readCounterOptions(params: URLSearchParams): CounterOptions {
  return {
    show: parseChoices(params.get('show'), COUNTERS) ?? ['likes', 'viewers'],
    labels: parseFlag(params.get('labels')) ?? true,
    compact: parseFlag(params.get('compact')) ?? false,
    layout: params.get('layout') === 'column' ? 'column' : 'row',
  };
}

/** A widget with its own options, as read from the URL. */
export type WidgetSetup =
  | { widget: 'alerts'; options: AlertOptions }
  | { widget: 'chat'; options: ChatOptions }
  | { widget: 'goals'; options: GoalOptions }
  | { widget: 'leaderboard'; options: LeaderboardOptions }
  | { widget: 'counters'; options: CounterOptions };

export function readWidgetSetup(widget: OverlayWidget, params: URLSearchParams, pageUrl: string): WidgetSetup {
  switch (widget) {
    case 'alerts':
      return { widget, options: readAlertOptions(params, pageUrl) };
    case 'chat':
      return { widget, options: readChatOptions(params) };
    case 'goals':
      return { widget, options: readGoalOptions(params) };
    case 'leaderboard':
      return { widget, options: readLeaderboardOptions(params) };
    case 'counters':
      return { widget, options: readCounterOptions(params) };
  }
}
