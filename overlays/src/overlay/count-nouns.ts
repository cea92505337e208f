/**
 * The noun after a count on the widgets: "1 like", "2 likes", "1,000 likes". The words are
 * English, so English's plural rules pick the form, whatever locale formats the number.
 */

/** The two English forms of a noun that follows a count. */
export interface CountNoun {
  one: string;
  other: string;
}

const englishPlurals = new Intl.PluralRules('en');

/** The form of `noun` that reads right after `count`. */
export function nounFor(count: number, noun: CountNoun): string {
  return englishPlurals.select(count) === 'one' ? noun.one : noun.other;
}
