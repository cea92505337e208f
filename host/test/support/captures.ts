/**
 * Access to the shared, anonymized TikTok LIVE captures and the facts their README
 * states about them (line counts per message type, distinct messages).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { RawEnvelope, UnifiedEvent } from '@ttlp/sdk';
import { normalize } from '../../src/normalize/index.ts';
import { CaptureSession, decodeCaptureLine, parseJsonLine } from '../../src/ingest/capture.ts';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The captures folder: TTLP_CAPTURES_DIR, else ../shared/fixtures/captures beside the repository. */
export function capturesDir(): string {
  const dir = process.env.TTLP_CAPTURES_DIR ?? path.resolve(repoRoot, '../shared/fixtures/captures');
  if (!existsSync(path.join(dir, 'README.md')))
    throw new Error(`capture fixtures not found in ${dir} (set TTLP_CAPTURES_DIR to the folder with the *.capture.ndjson files)`);
  return dir;
}

export function captureFiles(): string[] {
  return readdirSync(capturesDir())
    .filter((name) => name.endsWith('.capture.ndjson'))
    .sort();
}

export function captureLines(file: string): string[] {
  return readFileSync(path.join(capturesDir(), file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

export interface ReadmeFacts {
  lines: number;
  byType: Record<string, number>;
  distinct: number;
  redeliveries: number;
}

/** Parses the README's per-file tables and its re-delivery table. */
export function readmeFacts(): Record<string, ReadmeFacts> {
  const text = readFileSync(path.join(capturesDir(), 'README.md'), 'utf8');
  const facts: Record<string, ReadmeFacts> = {};
  const sections = text.split(/^### /m).slice(1);
  for (const section of sections) {
    const name = section.slice(0, section.indexOf('\n')).trim();
    if (!name.endsWith('.capture.ndjson')) continue;
    const lines = Number(/\*\*(\d+) lines\*\*/.exec(section)?.[1]);
    const byType: Record<string, number> = {};
    for (const match of section.matchAll(/^\| (Webcast\w+) \| (\d+) \|$/gm)) byType[match[1]!] = Number(match[2]);
    facts[name] = { lines, byType, distinct: NaN, redeliveries: NaN };
  }
  for (const match of text.matchAll(/^\| ([\w.]+\.capture\.ndjson) \| (\d+) \| (\d+) \| (\d+)/gm)) {
    const entry = facts[match[1]!];
    if (entry) {
      entry.distinct = Number(match[3]);
      entry.redeliveries = Number(match[4]);
    }
  }
  return facts;
}

export interface DecodedLine {
  line: number;
  type: string;
  msgId: string;
  envelope: RawEnvelope;
}

/** Every line of a capture as the envelope of one session (no lifecycle envelopes), in order. */
export function captureEnvelopes(file: string, sessionId: string = crypto.randomUUID()): DecodedLine[] {
  const session = new CaptureSession({ sessionId });
  const decoded: Array<{ line: number; type: string; msgId: string }> = [];
  const envelopes: RawEnvelope[] = [];
  captureLines(file).forEach((text, index) => {
    const parsed = parseJsonLine(text, index + 1);
    if (!parsed.ok) throw new Error(`${file}:${index + 1}: ${parsed.rejection.message}`);
    const result = decodeCaptureLine(parsed.value, index + 1);
    if (!result.ok) throw new Error(`${file}:${index + 1}: ${result.rejection.message}`);
    const common = result.message.data.common as { msgId?: string } | undefined;
    decoded.push({ line: index + 1, type: result.message.type, msgId: common?.msgId ?? '' });
    envelopes.push(...session.accept(result.message));
  });
  envelopes.push(...session.finish());
  if (envelopes.length !== decoded.length) throw new Error(`${file}: ${decoded.length} lines gave ${envelopes.length} envelopes`);
  return decoded.map((entry, i) => ({ ...entry, envelope: envelopes[i]! }));
}

/** Every line of a capture normalized into UnifiedEvents (one session), in order; rejected lines fail. */
export function captureEvents(file: string, sessionId: string = crypto.randomUUID()): UnifiedEvent[] {
  return captureEnvelopes(file, sessionId).map(({ line, envelope }) => {
    const result = normalize(envelope);
    if (!result.ok) throw new Error(`${file}:${line}: ${result.rejection.message}`);
    return result.event;
  });
}
