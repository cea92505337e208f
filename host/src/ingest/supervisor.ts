/**
 * What feeds a running host's pipeline: one live provider per followed user, each with its own
 * sessions, reconnect state and ingest-board entry; the demo provider when no user is given; or
 * nothing (`--no-ingest`). Every provider publishes until the host stops, then what it published
 * is drained into storage. Undecodable live messages go to the dead-letter stream; a recording
 * template writes what arrives from each user as capture v1.
 */
import type { Agent } from 'node:http';
import path from 'node:path';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { HostConfig } from '../config.ts';
import type { DeadLetter } from '../bus/types.ts';
import { errorSummary } from '../error-summary.ts';
import type { Logger } from '../log.ts';
import type { HostMetrics } from '../metrics/host-metrics.ts';
import type { Pipeline, SessionOrigin } from '../pipeline/pipeline.ts';
import type { PublishResult } from '../pipeline/publisher.ts';
import { countEvents } from '../store/sessions.ts';
import { DemoProvider } from './demo.ts';
import { DirectTransport } from './live/direct.ts';
import { EulerTransport } from './live/euler.ts';
import { LiveProvider, type LiveNotice } from './live/live-provider.ts';
import { CaptureRecorder } from './live/recorder.ts';
import type { LiveRejection, LiveTransport } from './live/transport.ts';
import type { IngestProvider } from './provider.ts';
import type { IngestBoard, IngestStatus } from './status.ts';

/** How long a stopping host waits for what it received to be stored. */
export const DRAIN_TIMEOUT_MS = 10_000;

const USER_PLACEHOLDER = '{user}';

/** A recording that cannot be made: a template several users would share, or a file that cannot be written. */
export class RecordingError extends Error {
  override readonly name = 'RecordingError';
}

/** The recording file of each user, from a template that must hold `{user}` when there are several. */
export function recordingFiles(template: string, users: readonly string[]): string[] {
  if (users.length > 1 && !template.includes(USER_PLACEHOLDER))
    throw new RecordingError(`--record with several users needs ${USER_PLACEHOLDER} in the file name (e.g. recordings/${USER_PLACEHOLDER}.capture.ndjson)`);
  return users.map((user) => template.replaceAll(USER_PLACEHOLDER, user));
}

/** How a supervisor's run ended: the host was told to stop, or every followed user was given up. */
export type IngestEnd = 'stopped' | 'gave-up';

export interface IngestSupervisorOptions {
  config: HostConfig;
  pipeline: Pipeline;
  log: Logger;
  metrics: HostMetrics;
  board: IngestBoard;
  /** false: feed nothing, run only the pipeline stages (extra hosts sharing Redis and PostgreSQL). */
  enabled: boolean;
  /** Capture v1 file per followed user, in the order of `config.tiktokUsers`; empty = no recording. */
  recordings: string[];
  /** The storage and bus in words, for the start line. */
  backends: string;
}

export class IngestSupervisor {
  constructor(private readonly options: IngestSupervisorOptions) {}

  /** Feeds the pipeline until `signal` aborts (or every live provider gives up), then drains. */
  async run(signal: AbortSignal): Promise<IngestEnd> {
    const { config, pipeline, log, backends } = this.options;
    if (!this.options.enabled) {
      log.info({ consumer: pipeline.consumer }, `ttlp host started without ingest (pipeline stages only): ${backends}; press Ctrl+C to stop`);
      await waitForAbort(signal);
      return 'stopped';
    }
    if (config.tiktokUsers.length > 0) {
      log.info(`ttlp host started: ${backends}`);
      await this.followLiveUsers(signal);
      return signal.aborted ? 'stopped' : 'gave-up';
    }
    await this.runDemo(signal);
    return 'stopped';
  }

  private async runDemo(signal: AbortSignal): Promise<void> {
    const { config, pipeline, log, backends } = this.options;
    const provider = new DemoProvider({ seed: config.demoSeed, rate: config.demoRate });
    const status = this.options.board.add({ name: provider.name, user: null, streamId: provider.streamId, sessionId: provider.sessionId, state: 'connected' });
    log.info(
      { provider: provider.name, sessionId: provider.sessionId, streamId: provider.streamId, rate: config.demoRate },
      `ttlp host started with the demo provider (no TikTok user given): room ${provider.streamId}, session ${provider.sessionId}; ${backends}; press Ctrl+C to stop`,
    );
    const published = await this.publishUntilStopped(provider, { type: 'live', provider: provider.name, meta: { seed: provider.seed } }, { signal, log, status });
    const stored = await countEvents(pipeline.store, provider.sessionId);
    log.info({ sessionId: provider.sessionId, received: published.published, stored }, `session ${provider.sessionId}: ${published.published} received, ${stored} stored`);
  }

  /** Follows every configured user until `signal` aborts (or every provider gives up). */
  private async followLiveUsers(signal: AbortSignal): Promise<void> {
    const { config, log, recordings } = this.options;
    const users = config.tiktokUsers;
    const agent = config.proxy ? new HttpsProxyAgent(config.proxy) : undefined;
    const recorders: CaptureRecorder[] = [];
    try {
      for (const file of recordings)
        recorders.push(await CaptureRecorder.open(file).catch((error: unknown) => Promise.reject(new RecordingError(`cannot record to ${file}: ${errorSummary(error)}`))));
      const where = config.provider === 'direct' && config.tiktokUrl ? ` via ${config.tiktokUrl}` : '';
      log.info({ provider: config.provider, users }, `following ${users.map((user) => `@${user}`).join(', ')} with the ${config.provider} provider${where}; press Ctrl+C to stop`);
      await Promise.all(users.map((user, index) => this.followOne(user, signal, agent, recorders[index])));
    } finally {
      for (const recorder of recorders) {
        await recorder.close();
        log.info(
          { file: recorder.file, written: recorder.written },
          `recorded ${recorder.written} messages to ${path.relative(process.cwd(), recorder.file) || recorder.file}${recorder.error ? ` (stopped at an error: ${errorSummary(recorder.error)})` : ''}`,
        );
      }
    }
  }

  private async followOne(user: string, signal: AbortSignal, agent: Agent | undefined, recorder: CaptureRecorder | undefined): Promise<void> {
    const { config, metrics } = this.options;
    const log = this.options.log.child({ user });
    const transport = transportFor(config, user, agent);
    const status = this.options.board.add({ name: transport.name, user });
    const provider = new LiveProvider({
      transport,
      status,
      livePollMs: config.livePollSeconds * 1000,
      maxAttempts: config.reconnectMaxAttempts,
      onMessage: recorder ? (message) => recorder.record(message) : undefined,
      onRejected: (rejection, context) => this.deadLetter(log, user, rejection, context),
      onNotice: (notice) => {
        if (notice.kind === 'connected') metrics.ingestConnections.inc({ provider: transport.name, user });
        logNotice(log, notice);
      },
    });
    const published = await this.publishUntilStopped(provider, { type: 'live', provider: transport.name, meta: { user } }, { signal, log, source: `@${user}` });
    log.info({ received: published.published }, `@${user}: ${published.published} messages received`);
  }

  /**
   * Publishes the provider's envelopes until it ends (counted in `ttlp_events_received_total`),
   * marks its board entry stopped, then waits — at most DRAIN_TIMEOUT_MS — until what was
   * published is stored: the in-process bus keeps nothing across a restart.
   */
  private async publishUntilStopped(
    provider: IngestProvider,
    origin: SessionOrigin,
    options: { signal: AbortSignal; log: Logger; status?: IngestStatus; source?: string },
  ): Promise<PublishResult> {
    const { pipeline, metrics } = this.options;
    let counted = 0;
    const published = await pipeline.ingest(provider, origin, {
      signal: options.signal,
      onPublished: (total) => {
        metrics.received.inc(total - counted);
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

  /**
   * Bytes that did not decode are dead letters (kept for a fix of the schema); message types the
   * connector has no schema for are only counted: TikTok sends dozens of them, they carry nothing
   * the host can read, and the dead-letter stream is for what needs attention.
   */
  private deadLetter(log: Logger, user: string, rejection: LiveRejection, context: { sessionId: string }): void {
    const { config, pipeline, metrics } = this.options;
    metrics.ingestRejected.inc({ provider: config.provider, code: rejection.code });
    if (rejection.code === 'LIVE_UNKNOWN_TYPE') {
      log.debug({ type: rejection.type }, `@${user}: skipped a ${rejection.type} message (no schema)`);
      return;
    }
    log.warn({ code: rejection.code, type: rejection.type }, `@${user}: dead-lettered a message: ${rejection.message}`);
    const letter: DeadLetter = {
      stage: 'ingest',
      reason: rejection.code,
      error: rejection.message,
      payload: { provider: config.provider, user, sessionId: context.sessionId, type: rejection.type, proto: rejection.proto },
      failedAt: new Date().toISOString(),
    };
    void pipeline.bus.publish('dlq', letter).catch((error: unknown) => log.warn({ err: errorSummary(error) }, 'could not dead-letter a live message'));
  }
}

function transportFor(config: HostConfig, user: string, agent: Agent | undefined): LiveTransport {
  if (config.provider === 'euler') return new EulerTransport({ user, apiKey: config.eulerApiKey!, url: config.eulerWsUrl, agent });
  return new DirectTransport({
    user,
    tiktokUrl: config.tiktokUrl,
    signApiUrl: config.signApiUrl,
    signApiKey: config.eulerApiKey,
    tiktokSession: config.tiktokSessionId ? { sessionId: config.tiktokSessionId, ttTargetIdc: config.tiktokTargetIdc! } : undefined,
    agent,
  });
}

function logNotice(log: Logger, notice: LiveNotice): void {
  switch (notice.kind) {
    case 'connected':
      log.info(notice, `@${notice.user}: ${notice.reconnect ? 'reconnected' : 'connected'} to room ${notice.roomId}, session ${notice.sessionId}`);
      break;
    case 'disconnected':
      log.info(notice, `@${notice.user}: disconnected (${notice.reason})${notice.willReconnect ? '; reconnecting' : ''}`);
      break;
    case 'offline':
      log.info(notice, `@${notice.user} is not live; checking again in ${Math.round(notice.retryInMs / 100) / 10} s`);
      break;
    case 'retrying':
      log.warn(notice, `@${notice.user}: could not connect (${notice.error}); attempt ${notice.attempt}, trying again in ${Math.round(notice.retryInMs / 100) / 10} s`);
      break;
    case 'gave-up':
      log.error(notice, `@${notice.user}: stopped following (${notice.error})`);
      break;
  }
}

const waitForAbort = (signal: AbortSignal) =>
  new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
