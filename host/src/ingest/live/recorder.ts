/**
 * `--record <file>`: every message received live, written as capture v1 from the protobuf
 * bytes the connector hands over, so a recording plays back through the capture provider,
 * `ttlp import` and the fake TikTok exactly as it arrived.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { LiveMessage } from './transport.ts';

export class CaptureRecorder {
  private readonly out: WriteStream;
  private failure: Error | undefined;
  /** Lines written. */
  written = 0;
  /** Messages that came without their bytes (cannot be recorded as capture v1). */
  skipped = 0;

  private constructor(readonly file: string) {
    // Appending: a host restarted with the same --record file continues the recording.
    this.out = createWriteStream(file, { flags: 'a', encoding: 'utf8', mode: 0o600 });
    this.out.on('error', (error) => (this.failure ??= error));
  }

  /** Opens `file` for appending; rejects when it cannot be written. */
  static async open(file: string): Promise<CaptureRecorder> {
    const recorder = new CaptureRecorder(file);
    await Promise.race([
      once(recorder.out, 'open'),
      once(recorder.out, 'error').then(([error]) => {
        throw error;
      }),
    ]);
    return recorder;
  }

  record(message: LiveMessage): void {
    if (this.failure) return;
    if (!message.proto) {
      this.skipped += 1;
      return;
    }
    const proto = Buffer.from(message.proto.buffer, message.proto.byteOffset, message.proto.byteLength).toString('base64');
    this.out.write(`${JSON.stringify({ ts: message.receivedAt.toISOString(), type: message.type, proto })}\n`);
    this.written += 1;
  }

  /** The first write error, if any; recording stops at it. */
  get error(): Error | undefined {
    return this.failure;
  }

  async close(): Promise<void> {
    if (this.out.closed) return;
    this.out.end();
    await once(this.out, 'close');
  }
}
