/**
 * `ttlp import <capture>`: a capture v1 file through the whole pipeline as a new session,
 * then a summary of what was read, stored, deduplicated and rejected.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isLifecycleType } from '@ttlp/sdk';
import type { ConfigFlags } from '../config.ts';
import { errorSummary } from '../error-summary.ts';
import type { DeadLetter } from '../bus/types.ts';
import { CaptureProvider, type IngestRejection } from '../ingest/capture.ts';
import { LIFECYCLE_EVENT_TYPES, countByType, countEvents, endSession } from '../store/sessions.ts';
import { CommandError, EXIT_USAGE } from './errors.ts';
import { configFrom, loggerFor, openPipeline } from './pipeline-command.ts';
import { Progress } from './progress.ts';

export interface ImportSummary {
  sessionId: string;
  /** Capture messages read (lines that were not blank). */
  read: number;
  /** Rows stored for them. */
  stored: number;
  /** Re-deliveries of a message already stored in this session. */
  duplicates: number;
  /** Lines that could not be decoded or normalized (they are in the dead-letter stream). */
  rejected: number;
  byType: Record<string, number>;
  seconds: number;
}

export interface ImportOptions extends ConfigFlags {
  json?: boolean;
  streamId?: string;
}

export async function runImport(file: string, options: ImportOptions, context: { env: NodeJS.ProcessEnv; signal: AbortSignal }): Promise<ImportSummary> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new CommandError(`no capture file at ${file}`, EXIT_USAGE);
  const config = configFrom(context.env, options);
  const log = loggerFor(config, process.stderr);
  const started = performance.now();
  const pipeline = await openPipeline(config, log);
  const progress = new Progress(`importing ${path.basename(file)}`);
  try {
    pipeline.startStages();
    const dlqBefore = await pipeline.resilient(() => pipeline.bus.lastId('dlq'));
    let decodeRejected = 0;
    const provider = new CaptureProvider({
      file,
      streamId: options.streamId,
      onRejected: (rejection: IngestRejection) => {
        decodeRejected += 1;
        log.warn({ line: rejection.line, code: rejection.code }, `line ${rejection.line} rejected: ${rejection.code} ${rejection.message}`);
        const letter: DeadLetter = {
          stage: 'ingest',
          reason: rejection.code,
          error: `${path.basename(file)} line ${rejection.line}: ${rejection.message}`,
          payload: { file: path.basename(file), line: rejection.line },
          failedAt: new Date().toISOString(),
        };
        void pipeline.bus.publish('dlq', letter).catch((error) => log.warn({ err: errorSummary(error) }, `could not dead-letter ${path.basename(file)} line ${rejection.line}: ${errorSummary(error)}`));
      },
    });
    const { sessionId } = provider;
    const published = await pipeline.ingest(
      provider,
      { type: 'live', provider: 'capture', meta: { importedFrom: path.basename(file) } },
      { signal: context.signal, onPublished: (count) => progress.update(`${count} published`) },
    );
    await pipeline.waitForStored(published.lastId, {
      signal: context.signal,
      onPoll: async () => {
        if (progress.enabled) progress.update(`${published.published} published, ${await countEvents(pipeline.store, sessionId)} stored`);
      },
    });
    await pipeline.resilient(() => endSession(pipeline.store, sessionId));

    const letters = await pipeline.resilient(() => pipeline.bus.range<DeadLetter>('dlq', { start: dlqBefore }));
    const normalizerRejections = letters.filter(({ id, payload }) => {
      if (id === dlqBefore || payload.stage !== 'normalize') return false;
      const envelope = payload.payload as { sessionId?: unknown; type?: unknown } | null;
      return envelope?.sessionId === sessionId && !isLifecycleType(envelope.type);
    });
    // Also on stderr: the embedded dead-letter stream lives only as long as this process.
    for (const { payload: letter } of normalizerRejections) {
      const envelope = letter.payload as { type?: string; seqNo?: string };
      log.warn({ code: letter.reason, type: envelope.type, seqNo: envelope.seqNo }, `${envelope.type} (seqNo ${envelope.seqNo}) rejected: ${letter.reason} ${letter.error}`);
    }
    const normalizerRejected = normalizerRejections.length;
    const read = published.messages + decodeRejected;
    const stored = await pipeline.resilient(() => countEvents(pipeline.store, sessionId, { excludeLifecycle: true }));
    const rejected = decodeRejected + normalizerRejected;
    const byType = Object.fromEntries(
      Object.entries(await pipeline.resilient(() => countByType(pipeline.store, sessionId))).filter(
        ([type]) => !(LIFECYCLE_EVENT_TYPES as readonly string[]).includes(type),
      ),
    );
    const summary: ImportSummary = {
      sessionId,
      read,
      stored,
      duplicates: read - rejected - stored,
      rejected,
      byType,
      seconds: Math.round(performance.now() - started) / 1000,
    };
    progress.done(`${summary.read} read, ${summary.stored} stored`);
    return summary;
  } finally {
    await pipeline.close();
  }
}

export function formatImportSummary(summary: ImportSummary): string {
  const types = Object.entries(summary.byType)
    .sort((a, b) => b[1] - a[1])
    .map(([type, count]) => `  ${type.padEnd(12)} ${count}`)
    .join('\n');
  return [
    `session     ${summary.sessionId}`,
    `read        ${summary.read}`,
    `stored      ${summary.stored}`,
    `duplicates  ${summary.duplicates}`,
    `rejected    ${summary.rejected}`,
    `seconds     ${summary.seconds}`,
    'by type:',
    types,
  ].join('\n');
}
