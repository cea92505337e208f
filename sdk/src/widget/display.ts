/**
 * Small things every widget that shows viewers needs: which picture URLs are safe to show, and
 * the noun after a count ("1 like", "2 likes").
 */

/** The URL when it is an absolute http(s) URL of reasonable length (avatars, gift pictures), else null. */
export function safeImageUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2048) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** The two English forms of a noun that follows a count. */
export interface CountNoun {
  one: string;
  other: string;
}

const englishPlurals = new Intl.PluralRules('en');

/** The form of `noun` that reads right after `count`; the words are English, so English's plural rules pick it. */
export function nounFor(count: number, noun: CountNoun): string {
  return englishPlurals.select(count) === 'one' ? noun.one : noun.other;
}

/**
 * Readers for what a widget receives: a plugin's data is JSON the widget did not write, so each
 * field is checked before it is shown.
 */
export const asRecord = (value: unknown): Record<string, unknown> | null =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;

/** A finite number ≥ 0, else null. */
export const asCount = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null);

/** A string cut to `max` characters; '' for anything else. */
export const asText = (value: unknown, max: number): string => (typeof value === 'string' ? value.slice(0, max) : '');
