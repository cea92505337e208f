/** What every ingest provider (capture, demo, later direct and euler) offers the pipeline. */
import type { RawEnvelope } from '@ttlp/sdk';

export interface IngestProvider {
  /** Provider name as it appears in CONNECTED events and session rows. */
  readonly name: string;
  /**
   * Raw envelopes in the order the provider received them. The iteration ends when the
   * source is exhausted (a capture file) or when `signal` aborts (a live or demo stream).
   */
  envelopes(signal?: AbortSignal): AsyncIterable<RawEnvelope>;
}
