/**
 * `ttlp start --user …`: one live provider per followed user, each with its own sessions,
 * reconnect state and ingest-board entry, all publishing into the one pipeline. Undecodable
 * messages go to the dead-letter stream; `--record` writes what arrives as capture v1.
 */
import type { Agent } from 'node:http';
import path from 'node:path';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { HostConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import type { HostMetrics } from '../api/metrics.ts';
import type { DeadLetter } from '../bus/types.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import { errorSummary } from '../error-summary.ts';
import type { IngestBoard } from '../ingest/status.ts';
import { DirectTransport } from '../ingest/live/direct.ts';
import { EulerTransport } from '../ingest/live/euler.ts';
import { LiveProvider, type LiveNotice } from '../ingest/live/live-provider.ts';
import { CaptureRecorder } from '../ingest/live/recorder.ts';
import type { LiveRejection, LiveTransport } from '../ingest/live/transport.ts';
import { CommandError, EXIT_USAGE } from './errors.ts';
import { ingestUntilStopped } from './host-ingest.ts';

const USER_PLACEHOLDER = '{user}';

export interface LiveIngestOptions {
  config: HostConfig;
  pipeline: Pipeline;
  log: Logger;
  metrics: HostMetrics;
  board: IngestBoard;
  signal: AbortSignal;
  /** `--record` path; with several users it must hold `{user}`. */
  record?: string;
}

/** The recording file of one user, or a usage error when several users would share one. */
export function recordingPath(template: string, user: string, users: number): string {
  if (users > 1 && !template.includes(USER_PLACEHOLDER))
    throw new CommandError(`--record with several users needs ${USER_PLACEHOLDER} in the file name (e.g. recordings/${USER_PLACEHOLDER}.capture.ndjson)`, EXIT_USAGE);
  return template.replaceAll(USER_PLACEHOLDER, user);
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

/** Follows every configured user until `signal` aborts (or every provider gives up). */
export async function followLiveUsers(options: LiveIngestOptions): Promise<void> {
  const { config, log } = options;
  const users = config.tiktokUsers;
  const recordings = options.record === undefined ? [] : users.map((user) => recordingPath(options.record!, user, users.length));
  const agent = config.proxy ? new HttpsProxyAgent(config.proxy) : undefined;
  const recorders: CaptureRecorder[] = [];
  try {
    for (const file of recordings) recorders.push(await CaptureRecorder.open(file).catch((error: unknown) => Promise.reject(new CommandError(`cannot record to ${file}: ${errorSummary(error)}`, EXIT_USAGE))));
    const where = config.provider === 'direct' && config.tiktokUrl ? ` via ${config.tiktokUrl}` : '';
    log.info({ provider: config.provider, users }, `following ${users.map((user) => `@${user}`).join(', ')} with the ${config.provider} provider${where}; press Ctrl+C to stop`);
    await Promise.all(users.map((user, index) => followOne({ ...options, user, agent, recorder: recorders[index] })));
  } finally {
    for (const recorder of recorders) {
      await recorder.close();
      log.info({ file: recorder.file, written: recorder.written }, `recorded ${recorder.written} messages to ${path.relative(process.cwd(), recorder.file) || recorder.file}${recorder.error ? ` (stopped at an error: ${errorSummary(recorder.error)})` : ''}`);
    }
  }
}

async function followOne(options: LiveIngestOptions & { user: string; agent: Agent | undefined; recorder: CaptureRecorder | undefined }): Promise<void> {
  const { config, pipeline, metrics, board, signal, user, recorder } = options;
  const log = options.log.child({ user });
  const transport = transportFor(config, user, options.agent);
  const status = board.add({ name: transport.name, user });
  const provider = new LiveProvider({
    transport,
    status,
    livePollMs: config.livePollSeconds * 1000,
    maxAttempts: config.reconnectMaxAttempts,
    onMessage: recorder ? (message) => recorder.record(message) : undefined,
    onRejected: (rejection, context) => deadLetter(options, rejection, context),
    onNotice: (notice) => {
      if (notice.kind === 'connected') metrics.ingestConnections.inc({ provider: transport.name, user });
      logNotice(log, notice);
    },
  });
  const published = await ingestUntilStopped(pipeline, provider, { type: 'live', provider: transport.name, meta: { user } }, { signal, metrics, log, source: `@${user}` });
  log.info({ received: published.published }, `@${user}: ${published.published} messages received`);
}

/**
 * Bytes that did not decode are dead letters (kept for a fix of the schema); message types the
 * connector has no schema for are only counted: TikTok sends dozens of them, they carry nothing
 * the host can read, and the dead-letter stream is for what needs attention.
 */
function deadLetter(options: LiveIngestOptions & { user: string }, rejection: LiveRejection, context: { sessionId: string }): void {
  const { pipeline, metrics, user } = options;
  const log = options.log.child({ user });
  metrics.ingestRejected.inc({ provider: options.config.provider, code: rejection.code });
  if (rejection.code === 'LIVE_UNKNOWN_TYPE') {
    log.debug({ type: rejection.type }, `@${user}: skipped a ${rejection.type} message (no schema)`);
    return;
  }
  log.warn({ code: rejection.code, type: rejection.type }, `@${user}: dead-lettered a message: ${rejection.message}`);
  const letter: DeadLetter = {
    stage: 'ingest',
    reason: rejection.code,
    error: rejection.message,
    payload: { provider: options.config.provider, user, sessionId: context.sessionId, type: rejection.type, proto: rejection.proto },
    failedAt: new Date().toISOString(),
  };
  void pipeline.bus.publish('dlq', letter).catch((error: unknown) => log.warn({ err: errorSummary(error) }, 'could not dead-letter a live message'));
}
