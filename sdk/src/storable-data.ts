/**
 * What the host can keep and pass on of data it is handed: JSON PostgreSQL can store (text and
 * jsonb hold no U+0000, jsonb no unpaired surrogate) and nested shallowly enough that every
 * recursive step after (serializing, validating, cloning to another thread) stays within its stack.
 */

/** How deep input may nest: settings, test events and plugin output nest a few levels. */
export const STORABLE_MAX_DEPTH = 64;

const UNPAIRED_SURROGATE = String.raw`[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]`;
const HAS_UNPAIRED_SURROGATE = new RegExp(UNPAIRED_SURROGATE);
const UNSTORABLE_CHARACTERS = new RegExp(`\\u0000|${UNPAIRED_SURROGATE}`, 'g');

/** What keeps `text` out of the store, or undefined. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character';
  if (HAS_UNPAIRED_SURROGATE.test(text)) return 'contains an unpaired surrogate (not valid Unicode)';
  return undefined;
}

/**
 * What makes `value` unstorable, as "`where` …", or undefined: a key or string with a NUL
 * character or an unpaired surrogate, or nesting deeper than `maxDepth`. Iterative, so any depth
 * is safe to check.
 */
export function storableProblem(value: unknown, where: string, maxDepth = STORABLE_MAX_DEPTH): string | undefined {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item === 'string') {
      const problem = textProblem(item);
      if (problem) return `${where} ${problem}`;
    } else if (typeof item === 'object' && item !== null) {
      if (depth >= maxDepth) return `${where} nests more than ${maxDepth} levels deep`;
      for (const [key, child] of Object.entries(item)) pending.push([key, depth], [child, depth + 1]);
    }
  }
  return undefined;
}

/** `text` made storable: each NUL character and unpaired surrogate becomes U+FFFD. */
export function storableText(text: string): string {
  return textProblem(text) === undefined ? text : text.replace(UNSTORABLE_CHARACTERS, '\ufffd');
}
