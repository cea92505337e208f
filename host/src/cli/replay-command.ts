/** `ttlp replay <sessionId>`: re-publishes a stored session as a new replay session. */
import type { ConfigFlags } from '../config.ts';
import { replaySession, SessionNotFoundError } from '../pipeline/replay.ts';
import { countEvents, endSession } from '../store/sessions.ts';
import { CommandError } from './errors.ts';
import { configFrom, loggerFor, openPipeline } from './pipeline-command.ts';
import { Progress } from './progress.ts';

export interface ReplaySummary {
  sessionId: string;
  replayedFrom: string;
  published: number;
  stored: number;
  seconds: number;
}

export interface ReplayCommandOptions extends ConfigFlags {
  speed?: number;
  json?: boolean;
}

export async function runReplay(
  replayedFrom: string,
  options: ReplayCommandOptions,
  context: { env: NodeJS.ProcessEnv; signal: AbortSignal },
): Promise<ReplaySummary> {
  const config = configFrom(context.env, options);
  const log = loggerFor(config, process.stderr);
  const started = performance.now();
  const pipeline = await openPipeline(config, log);
  const progress = new Progress(`replaying ${replayedFrom}`);
  try {
    pipeline.startStages();
    const result = await replaySession(pipeline.store, pipeline.bus, replayedFrom, {
      speed: options.speed,
      signal: context.signal,
      onPublished: (count) => progress.update(`${count} published`),
    }).catch((error: unknown) => {
      if (error instanceof SessionNotFoundError) throw new CommandError(error.message);
      throw error;
    });
    await pipeline.waitForEventsStored(result.lastId, {
      signal: context.signal,
      onPoll: async () => {
        if (progress.enabled) progress.update(`${result.published} published, ${await countEvents(pipeline.store, result.sessionId)} stored`);
      },
    });
    await pipeline.resilient(() => endSession(pipeline.store, result.sessionId));
    const summary: ReplaySummary = {
      sessionId: result.sessionId,
      replayedFrom,
      published: result.published,
      stored: await pipeline.resilient(() => countEvents(pipeline.store, result.sessionId)),
      seconds: Math.round(performance.now() - started) / 1000,
    };
    progress.done(`${summary.published} published, ${summary.stored} stored`);
    return summary;
  } finally {
    await pipeline.close();
  }
}

export function formatReplaySummary(summary: ReplaySummary): string {
  return [
    `session       ${summary.sessionId}`,
    `replayed from ${summary.replayedFrom}`,
    `published     ${summary.published}`,
    `stored        ${summary.stored}`,
    `seconds       ${summary.seconds}`,
  ].join('\n');
}
