/**
 * Points a plugin's error stacks at its own files. Inside the isolate the bundle runs under the
 * name `BUNDLE_FILENAME` and the prelude under `PRELUDE_FILENAME`, so their stack frames say which
 * is which; with the bundle's source map, `at handler (plugin-bundle.js:62:11)` becomes
 * `at handler (src/index.ts:4:9)` (paths relative to the plugin's folder), and the prelude's frames
 * — the host's code, of no use to the plugin's author — are left out. Only error text is rewritten,
 * when a fault is recorded or a log line quotes a stack; the map is decoded the first time it is
 * needed.
 */
import { SourceMap, type SourceMapPayload } from 'node:module';

/** The name the plugin's bundle is evaluated under in its isolate. */
export const BUNDLE_FILENAME = 'plugin-bundle.js';

/** The name the prelude is evaluated under in the isolate. */
export const PRELUDE_FILENAME = 'ttlp-prelude.js';

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const BUNDLE_POSITION = new RegExp(`${escaped(BUNDLE_FILENAME)}:(\\d+):(\\d+)`, 'g');
const PRELUDE_FRAME = new RegExp(`^\\s*at .*${escaped(PRELUDE_FILENAME)}:\\d+:\\d+\\)?\\s*$`);
/** A stack frame's location: `at fn (file:1:2)` or `at file:1:2`. */
const FRAME_LOCATION = /^\s*at (?:.*\()?([^()]+:\d+:\d+)\)?\s*$/;
/** A location that is no source of the plugin's (those are relative paths): absolute, or behind a scheme (`file:`, `node:`). */
const ELSEWHERE = /^(?:[\\/]|[a-z][\w+.-]*:(?!\d))/i;

/**
 * Positions mapped in one text at most: a stack has ten frames, and text a plugin made up to
 * look like one must not grow without bound when its positions become longer paths.
 */
const MAX_POSITIONS = 50;

/** Lines longer than this are no stack frame, and are not read as one (matching them could take long). */
const FRAME_MAX_CHARS = 1000;

export class SourcePositions {
  private decoded: SourceMap | null | undefined;

  /** `sourceMap`: the bundle's source map as JSON (see `bundlePlugin`); without one, frames keep the bundle's positions. */
  constructor(private readonly sourceMap: string | undefined) {}

  /** `text` with the bundle's positions as the plugin's source positions, without the prelude's frames. */
  rewrite(text: string): string {
    if (!text.includes(BUNDLE_FILENAME) && !text.includes(PRELUDE_FILENAME)) return text;
    let mapped = 0;
    return text
      .split('\n')
      .filter((line) => !PRELUDE_FRAME.test(line))
      .join('\n')
      .replace(BUNDLE_POSITION, (position: string, line: string, column: string) =>
        mapped++ < MAX_POSITIONS ? (this.origin(Number(line), Number(column)) ?? position) : position,
      );
  }

  /** `file:line:column` in the plugin's sources of a (1-based) position in the bundle, when the map has that line. */
  private origin(line: number, column: number): string | undefined {
    const entry = this.map()?.findEntry(line - 1, column - 1);
    // The nearest mapping may lie on an earlier line: code the bundler added, with no source of its own.
    if (!entry || !('originalSource' in entry) || entry.generatedLine !== line - 1) return undefined;
    return `${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  }

  private map(): SourceMap | undefined {
    if (this.decoded === undefined) this.decoded = decode(this.sourceMap);
    return this.decoded ?? undefined;
  }
}

function decode(sourceMap: string | undefined): SourceMap | null {
  if (sourceMap === undefined) return null;
  try {
    return new SourceMap(JSON.parse(sourceMap) as SourceMapPayload);
  } catch {
    return null;
  }
}

/**
 * Where the error in a fault's text happened: its first frame in the plugin's own files (a path
 * that stays inside its folder), else its first frame in the plugin's bundle (the SDK's files, or
 * code the bundler added); none for text without such frames.
 */
export function faultPlace(text: string): string | undefined {
  const locations = text
    .split('\n')
    .slice(1)
    .flatMap((line) => (line.length <= FRAME_MAX_CHARS ? (FRAME_LOCATION.exec(line)?.[1] ?? []) : []))
    .filter((location) => !ELSEWHERE.test(location));
  return locations.find((location) => !location.startsWith('../') && !location.startsWith(BUNDLE_FILENAME)) ?? locations[0];
}
