/** `ttlp fake-tiktok`: runs the fake TikTok (fake-tiktok/server.ts) until Ctrl+C. */
import { existsSync } from 'node:fs';
import { CaptureProblem, loadCapture } from '../fake-tiktok/broadcast.ts';
import { FakeTikTok } from '../fake-tiktok/server.ts';
import { CommandError, EXIT_USAGE } from './errors.ts';

export interface FakeTikTokFlags {
  capture: string;
  port: string;
  host: string;
  speed: number;
  fast?: boolean;
  loop?: boolean;
  offlineFor?: number;
  rateLimit?: number;
  retryAfter: number;
  dropAfter?: number;
}

export async function runFakeTikTok(flags: FakeTikTokFlags, context: { signal: AbortSignal; stdout?: NodeJS.WritableStream }): Promise<number> {
  const out = context.stdout ?? process.stdout;
  const say = (line: string) => out.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CommandError('--port must be a whole number from 0 to 65535', EXIT_USAGE);
  if (!existsSync(flags.capture)) throw new CommandError(`no capture file at ${flags.capture}`, EXIT_USAGE);
  const messages = await loadCapture(flags.capture).catch((error: unknown) => {
    if (error instanceof CaptureProblem) throw new CommandError(`${flags.capture}${error.line ? ` line ${error.line}` : ''}: ${error.message}`, EXIT_USAGE);
    throw error;
  });
  const fake = await FakeTikTok.start({
    messages,
    port,
    host: flags.host,
    speed: flags.fast ? undefined : flags.speed,
    loop: flags.loop,
    offlineForMs: flags.offlineFor === undefined ? undefined : flags.offlineFor * 1000,
    dropAfter: flags.dropAfter,
    log: say,
  }).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'EADDRINUSE') throw new CommandError(`port ${port} on ${flags.host} is in use; pick another with --port (0 = any free port)`, EXIT_USAGE);
    throw error;
  });
  if (flags.rateLimit) fake.limitSignRequests(flags.rateLimit, flags.retryAfter);
  const pace = flags.fast ? 'as fast as the client takes it' : `at ${flags.speed}× the captured pace`;
  out.write(
    [
      `fake TikTok listening on ${fake.url}`,
      `  playing ${messages.length} messages from ${flags.capture} ${pace}${flags.loop ? ', looping' : ''}`,
      `  run the host against it:  ttlp start --user @anyone --tiktok-url ${fake.url}`,
      `  status:                   curl ${fake.url}/__fake/status`,
      '  press Ctrl+C to stop',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => (context.signal.aborted ? resolve() : context.signal.addEventListener('abort', () => resolve(), { once: true })));
  const { stats } = fake.state();
  await fake.close();
  say(`stopped: ${stats.connections} connections, ${stats.signRequests} sign requests (${stats.rateLimited} rate-limited), ${stats.acks} acks`);
  return 0;
}
