/**
 * `ttlp start`: runs the host. With no TikTok user the demo provider feeds the
 * pipeline, so a newcomer sees events flow at once.
 */
import { ConfigError, loadConfig, type HostConfig, type StartFlags } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { DemoProvider } from '../ingest/demo.ts';
import type { IngestProvider } from '../ingest/provider.ts';
import { normalize } from '../normalize/index.ts';
import { describeEvent } from '../normalize/describe.ts';

export interface StartContext {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  stdout?: NodeJS.WritableStream;
}

function loggerFor(config: HostConfig, stdout?: NodeJS.WritableStream): Logger {
  const pretty = config.logFormat === 'auto' ? undefined : config.logFormat === 'pretty';
  return createLogger({ level: config.logLevel, pretty, destination: stdout });
}

async function pump(provider: IngestProvider, config: HostConfig, log: Logger, signal: AbortSignal): Promise<void> {
  for await (const envelope of provider.envelopes(signal)) {
    const result = normalize(envelope, { debug: config.debug });
    if (result.ok) {
      const { event } = result;
      log.info({ eventType: event.eventType, eventId: event.eventId, userId: event.user.userId }, `${event.eventType.padEnd(12)} ${describeEvent(event)}`);
    } else {
      const { code, message } = result.rejection;
      log.warn({ rejection: result.rejection, envelopeType: envelope.type, seqNo: envelope.seqNo }, `rejected ${envelope.type}: ${code} ${message}`);
    }
  }
}

/** Exit code for a configuration the host cannot start with. */
const EXIT_CONFIG = 2;

export async function runStart(flags: StartFlags, context: StartContext): Promise<number> {
  let config: HostConfig;
  try {
    config = loadConfig(context.env, flags);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`ttlp: ${error.message}\n`);
    return EXIT_CONFIG;
  }
  const log = loggerFor(config, context.stdout);
  if (config.tiktokUsers.length > 0) {
    log.error(
      { users: config.tiktokUsers },
      'following a live TikTok user needs the direct provider, which this version does not include yet; run without --user / TIKTOK_USERNAME to start the demo',
    );
    return EXIT_CONFIG;
  }
  const provider = new DemoProvider({ seed: config.demoSeed, rate: config.demoRate });
  log.info(
    { provider: provider.name, sessionId: provider.sessionId, streamId: provider.streamId, rate: config.demoRate },
    `ttlp host started with the demo provider (no TikTok user given): room ${provider.streamId}, session ${provider.sessionId}; press Ctrl+C to stop`,
  );
  await pump(provider, config, log, context.signal);
  log.info('ttlp host stopped');
  return 0;
}
