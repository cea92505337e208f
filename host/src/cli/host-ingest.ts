/** Feeding the host's pipeline from one provider, as `ttlp start` does for the demo and for each live user. */
import type { HostMetrics } from '../api/metrics.ts';
import type { IngestProvider } from '../ingest/provider.ts';
import type { IngestStatus } from '../ingest/status.ts';
import type { Logger } from '../log.ts';
import type { Pipeline, SessionInfo } from '../pipeline/pipeline.ts';
import type { PublishResult } from '../pipeline/publisher.ts';

/** How long a stopping host waits for what it received to be stored. */
export const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Publishes the provider's envelopes until it ends (counted in `ttlp_events_received_total`),
 * marks its board entry stopped, then waits — at most DRAIN_TIMEOUT_MS — until what was
 * published is stored: the in-process bus keeps nothing across a restart.
 */
export async function ingestUntilStopped(
  pipeline: Pipeline,
  provider: IngestProvider,
  session: SessionInfo,
  options: { signal: AbortSignal; metrics: HostMetrics; log: Logger; status?: IngestStatus; source?: string },
): Promise<PublishResult> {
  let counted = 0;
  const published = await pipeline.ingest(provider, session, {
    signal: options.signal,
    onPublished: (total) => {
      options.metrics.received.inc(total - counted);
      counted = total;
    },
  });
  if (options.status) options.status.state = 'stopped';
  await pipeline
    .waitForStored(published.lastId, { signal: AbortSignal.timeout(DRAIN_TIMEOUT_MS) })
    .catch(() =>
      options.log.warn(`stopping before everything received${options.source ? ` from ${options.source}` : ''} was stored (waited ${DRAIN_TIMEOUT_MS / 1000} s)`),
    );
  return published;
}
