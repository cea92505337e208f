/**
 * One short line about a failure, safe for logs and dead letters: the innermost cause (the
 * driver's own error, not drizzle's wrapper that quotes the whole query and its parameters),
 * with its code, cut to a bounded length. Never a stack.
 */
const MAX_LENGTH = 300;

export function errorSummary(error: unknown): string {
  let current = error;
  for (let depth = 0; current instanceof Error && current.cause !== undefined && depth < 5; depth += 1) current = current.cause;
  const message = current instanceof Error ? current.message : String(current);
  const code = current instanceof Error ? (current as { code?: unknown }).code : undefined;
  const text = `${typeof code === 'string' ? `${code}: ` : ''}${message.split('\n', 1)[0]}`;
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text;
}
