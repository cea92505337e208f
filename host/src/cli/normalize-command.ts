/**
 * `ttlp normalize`: capture v1 or raw.v1 NDJSON on stdin → UnifiedEvent NDJSON on stdout.
 * Rejected lines are reported on stderr with their line number and code.
 */
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { EventSource, RawEnvelope } from '@ttlp/sdk';
import { CaptureSession, decodeCaptureLine, parseJsonLine } from '../ingest/capture.ts';
import { normalize } from '../normalize/index.ts';

export interface NormalizeCommandOptions {
  sessionId?: string;
  streamId?: string;
  source?: EventSource;
  stats?: boolean;
  keepGoing?: boolean;
  debug?: boolean;
}

export interface NormalizeStats {
  read: number;
  events: number;
  rejected: number;
  byType: Record<string, number>;
}

interface Streams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  errors: NodeJS.WritableStream;
}

/** True for a parsed line that is a capture v1 record rather than a raw envelope. */
const isCaptureLine = (value: unknown) => typeof value === 'object' && value !== null && 'proto' in value;

export async function runNormalize(options: NormalizeCommandOptions, streams: Streams): Promise<number> {
  const { input, output, errors } = streams;
  const session = new CaptureSession({
    sessionId: options.sessionId ?? randomUUID(),
    streamId: options.streamId,
    source: options.source ?? 'live',
  });
  const stats: NormalizeStats = { read: 0, events: 0, rejected: 0, byType: {} };
  // Capture lines may be held back until the stream id is known; this remembers their line numbers in order.
  const heldLines: number[] = [];

  const write = async (text: string) => {
    if (!output.write(text)) await once(output, 'drain');
  };
  const reject = (line: number, code: string, message: string) => {
    stats.rejected += 1;
    errors.write(`line ${line}: ${code} ${message}\n`);
  };
  const emit = async (envelope: unknown, line: number) => {
    const result = normalize(envelope, { debug: options.debug });
    if (!result.ok) return reject(line, result.rejection.code, result.rejection.message);
    stats.events += 1;
    stats.byType[result.event.eventType] = (stats.byType[result.event.eventType] ?? 0) + 1;
    await write(`${JSON.stringify(result.event)}\n`);
  };
  const emitCaptured = async (envelopes: RawEnvelope[]) => {
    for (const envelope of envelopes) await emit(envelope, heldLines.shift() ?? 0);
  };

  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    if (text.trim() === '') continue;
    stats.read += 1;
    const rejectedBefore = stats.rejected;
    const parsed = parseJsonLine(text, line);
    if (!parsed.ok) reject(line, parsed.rejection.code, parsed.rejection.message);
    else if (isCaptureLine(parsed.value)) {
      const decoded = decodeCaptureLine(parsed.value, line);
      if (!decoded.ok) reject(line, decoded.rejection.code, decoded.rejection.message);
      else {
        heldLines.push(line);
        await emitCaptured(session.accept(decoded.message));
      }
    } else await emit(parsed.value, line);
    if (stats.rejected > rejectedBefore && !options.keepGoing) break;
  }
  lines.close();
  await emitCaptured(session.finish());
  if (options.stats) errors.write(`${JSON.stringify(stats)}\n`);
  return stats.rejected > 0 && !options.keepGoing ? 1 : 0;
}
