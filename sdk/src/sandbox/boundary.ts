/**
 * What crosses the isolate's boundary: the plugin's arguments arrive as JSON text, and every answer
 * leaves as JSON text (`{result}` or `{error}`, never a host stack or object).
 */
import type { FaultReport } from './faults.ts';

export type Outcome = { result: unknown } | { error: string };

/** isolated-vm's message when an entry into the isolate ran past its timeout. */
export const TIMED_OUT = 'Script execution timed out.';

export function answer(outcome: Outcome): string {
  return JSON.stringify(outcome);
}

export function parseArgs(argsJson: unknown): Record<string, unknown> {
  const parsed = JSON.parse(String(argsJson)) as unknown;
  if (!parsed || typeof parsed !== 'object') throw new Error('malformed call');
  return parsed as Record<string, unknown>;
}

/** What an entry answered about its run: ended cleanly, ended with an error, or still working. */
export function runState(value: unknown): true | 'pending' | FaultReport {
  const state = parseJson(value) as { done?: unknown; error?: unknown } | undefined;
  if (!state || typeof state !== 'object') return { kind: 'crash', message: 'the plugin replaced an entry point of the host' };
  if (state.done !== true) return 'pending';
  return typeof state.error === 'string' ? { kind: 'error', message: state.error } : true;
}

export function parseJson(value: unknown): unknown {
  try {
    return JSON.parse(String(value));
  } catch {
    return undefined;
  }
}

/**
 * UTF-8 size of `args[field]` as JSON, from the text the plugin sent rather than by serializing it
 * again: the whole text less the rest of the object. Keys the plugin added only make it larger.
 */
export function valueBytes(argsJson: string, args: Record<string, unknown>, field: string): number {
  const rest = Buffer.byteLength(JSON.stringify({ ...args, [field]: null })) - 'null'.length;
  return Buffer.byteLength(argsJson) - rest;
}

export { messageOf } from '../error-message.ts';
