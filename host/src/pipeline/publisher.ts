/** Ingest → the `raw` stream: a provider's envelopes, published in batches, in order. */
import { isLifecycleType, type RawEnvelope } from '@ttlp/sdk';
import type { EventBus } from '../bus/types.ts';
import type { IngestProvider } from '../ingest/provider.ts';
import { retryTransient } from './transient.ts';

export interface PublishOptions {
  signal?: AbortSignal;
  /** Most envelopes per publish round trip. */
  batchSize?: number;
  /** How long a partial batch may wait for more envelopes (paced providers). */
  lingerMs?: number;
  /** Called before the first envelope of each session is published (to record the session). */
  onSession?: (first: RawEnvelope) => Promise<void>;
  /** Called once a session's `disconnected` envelope is published (to record its end). */
  onSessionEnd?: (last: RawEnvelope) => Promise<void>;
  /** Called after each published batch with the running total. */
  onPublished?: (published: number) => void;
}

export interface PublishResult {
  published: number;
  /** Published envelopes that are messages, not provider lifecycle. */
  messages: number;
  /** Bus id of the last envelope published, to wait for its processing. */
  lastId?: string;
}

export async function publishProvider(provider: IngestProvider, bus: EventBus, options: PublishOptions = {}): Promise<PublishResult> {
  const batchSize = options.batchSize ?? 500;
  const result: PublishResult = { published: 0, messages: 0 };
  const sessions = new Set<string>();
  let buffer: RawEnvelope[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  let failure: unknown;
  let timer: NodeJS.Timeout | undefined;

  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const batch = buffer;
    buffer = [];
    if (batch.length > 0)
      inFlight = inFlight.then(async () => {
        if (failure !== undefined) return;
        try {
          // A batch re-sent after a lost reply may land twice; the eventIds make the copy a no-op.
          const ids = await retryTransient(() => bus.publishMany('raw', batch), { signal: options.signal });
          result.lastId = ids.at(-1) ?? result.lastId;
          result.published += batch.length;
          result.messages += batch.filter((envelope) => !isLifecycleType(envelope.type)).length;
          options.onPublished?.(result.published);
        } catch (error) {
          failure = error;
        }
      });
    return inFlight.then(() => {
      if (failure !== undefined) throw failure;
    });
  };

  try {
    for await (const envelope of provider.envelopes(options.signal)) {
      if (!sessions.has(envelope.sessionId)) {
        sessions.add(envelope.sessionId);
        await flush();
        await options.onSession?.(envelope);
      }
      buffer.push(envelope);
      if (envelope.type === 'disconnected' && options.onSessionEnd) {
        await flush();
        await options.onSessionEnd(envelope);
      } else if (buffer.length >= batchSize) await flush();
      else timer ??= setTimeout(() => void flush().catch(() => undefined), options.lingerMs ?? 20);
    }
  } finally {
    await flush();
  }
  return result;
}
