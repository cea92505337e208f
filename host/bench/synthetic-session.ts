/**
 * A synthetic live session for benchmarks: real message shapes and a real type mix, taken from
 * the shared captures, with fresh msgIds so every message is distinct. Envelopes are made on
 * demand (the decoded templates are shared), so 200,000 of them fit in little memory.
 */
import { randomUUID } from 'node:crypto';
import type { RawEnvelope } from '@ttlp/sdk';
import { EnvelopeFactory } from '../src/ingest/envelope.ts';
import { captureEnvelopes, captureFiles } from '../src/test-support/captures.ts';

const templates = captureFiles().flatMap((file) => captureEnvelopes(file).map((decoded) => decoded.envelope));

export interface SyntheticSession {
  sessionId: string;
  streamId: string;
  /** Envelope `index` (0-based) of the session; the same index always gives the same message. */
  envelope(index: number): RawEnvelope;
}

export function syntheticSession(): SyntheticSession {
  const sessionId = randomUUID();
  const streamId = '7000000000000000001';
  const factory = new EnvelopeFactory(streamId, sessionId);
  const msgIdBase = 7_300_000_000_000_000_000n;
  return {
    sessionId,
    streamId,
    envelope(index) {
      const template = templates[index % templates.length]!;
      const common = { ...(template.data.common as Record<string, unknown>), msgId: String(msgIdBase + BigInt(index)), roomId: streamId };
      return factory.make(template.type, { ...template.data, common });
    },
  };
}
