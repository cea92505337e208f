import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RawEnvelope } from '@ttlp/sdk';
import { capturesDir, captureLines, readmeFacts } from '../../test/support/captures.ts';
import { CaptureProvider, type IngestRejection } from './capture.ts';

async function collect(provider: CaptureProvider, signal?: AbortSignal): Promise<RawEnvelope[]> {
  const out: RawEnvelope[] = [];
  for await (const envelope of provider.envelopes(signal)) out.push(envelope);
  return out;
}

function tempCapture(lines: string[]): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ttlp-capture-')), 'test.capture.ndjson');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const jw = () => path.join(capturesDir(), 'jw.capture.ndjson');

describe('CaptureProvider', () => {
  it('plays a capture as one session framed by connected and disconnected', async () => {
    const provider = new CaptureProvider({ file: jw() });
    const envelopes = await collect(provider);
    const lines = readmeFacts()['jw.capture.ndjson']!.lines;
    expect(envelopes).toHaveLength(lines + 2);
    expect(envelopes[0]).toMatchObject({ type: 'connected', data: { roomId: '7045275306669072438', provider: 'capture' } });
    expect(envelopes.at(-1)).toMatchObject({ type: 'disconnected', data: { willReconnect: false } });
    expect(new Set(envelopes.map((e) => e.sessionId))).toEqual(new Set([provider.sessionId]));
    expect(new Set(envelopes.map((e) => e.streamId))).toEqual(new Set(['7045275306669072438']));
    expect(envelopes.map((e) => e.seqNo)).toEqual(envelopes.map((_, i) => String(i + 1)));
    const records = captureLines('jw.capture.ndjson').map((line) => JSON.parse(line) as { type: string; ts: string });
    expect(envelopes.slice(1, -1).map((e) => e.type)).toEqual(records.map((r) => r.type));
    // Everything is stamped with the capture's own clock, so a replay keeps its timing.
    expect(envelopes.slice(1, -1).map((e) => e.ingestedAt)).toEqual(records.map((r) => r.ts));
    expect(envelopes[0]!.ingestedAt).toBe(records[0]!.ts);
    expect(envelopes.at(-1)!.ingestedAt).toBe(records.at(-1)!.ts);
  });

  it('takes the room most messages belong to as the stream, not a co-host room seen first', async () => {
    const envelopes = await collect(new CaptureProvider({ file: path.join(capturesDir(), 'ab.capture.ndjson'), lifecycle: false }));
    expect(envelopes[0]!.streamId).toBe('7666766752591078691');
  });

  it('honours a given stream id and session id', async () => {
    const sessionId = '0c5d1c8e-4f7a-4c4e-9b7e-5f0d3c2a1b00';
    const envelopes = await collect(new CaptureProvider({ file: jw(), streamId: '42', sessionId, lifecycle: false }));
    expect(envelopes.every((e) => e.streamId === '42' && e.sessionId === sessionId)).toBe(true);
  });

  it('paces by the capture timestamps divided by speed', async () => {
    const [first, second] = captureLines('jw.capture.ndjson');
    const at = (line: string, ts: string) => JSON.stringify({ ...JSON.parse(line), ts });
    const file = tempCapture([
      at(first!, '2023-11-13T17:00:00.000Z'),
      at(second!, '2023-11-13T17:00:01.000Z'),
      at(first!, '2023-11-13T17:00:03.000Z'),
    ]);
    const waits: number[] = [];
    const provider = new CaptureProvider({ file, speed: 4, lifecycle: false, sleep: async (ms) => void waits.push(ms) });
    expect(await collect(provider)).toHaveLength(3);
    expect(waits).toEqual([250, 500]);
  });

  it('stops when aborted while pacing', async () => {
    const controller = new AbortController();
    const provider = new CaptureProvider({
      file: jw(),
      speed: 1,
      lifecycle: false,
      sleep: async (_ms, signal) => {
        controller.abort();
        signal?.throwIfAborted();
      },
    });
    const envelopes = await collect(provider, controller.signal);
    expect(envelopes.length).toBeLessThan(readmeFacts()['jw.capture.ndjson']!.lines);
  });

  it('reports undecodable lines with their line numbers and goes on', async () => {
    const [good] = captureLines('jw.capture.ndjson');
    const file = tempCapture([
      good!,
      'not json',
      JSON.stringify({ ts: '2023-11-13T17:00:00.000Z', type: 'WebcastChatMessage' }),
      JSON.stringify({ ts: '2023-11-13T17:00:00.000Z', type: 'WebcastNoSuchMessage', proto: 'CgQ=' }),
      JSON.stringify({ ts: '2023-11-13T17:00:00.000Z', type: 'WebcastChatMessage', proto: '//////////8=' }),
      good!,
    ]);
    const rejections: IngestRejection[] = [];
    const envelopes = await collect(new CaptureProvider({ file, lifecycle: false, onRejected: (r) => rejections.push(r) }));
    expect(envelopes).toHaveLength(2);
    expect(rejections.map((r) => [r.line, r.code])).toEqual([
      [2, 'INPUT_NOT_JSON'],
      [3, 'CAPTURE_BAD_LINE'],
      [4, 'CAPTURE_DECODE_FAILED'],
      [5, 'CAPTURE_DECODE_FAILED'],
    ]);
    expect(rejections[2]!.message).toBe('the connector has no schema for WebcastNoSuchMessage');
  });

  it('refuses a speed that is not positive', () => {
    expect(() => new CaptureProvider({ file: jw(), speed: 0 })).toThrow(RangeError);
  });
});
