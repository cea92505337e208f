/**
 * Every operation a plugin's isolate asks of the host, in one table keyed by its name: the
 * prelude's stubs are generated from it, and the host serves each operation with the function
 * beside its name, checking grants and limits there. A `call` is answered at once; a `request`
 * later, through the prelude's `settle` entry point (kv and http wait on I/O).
 */
import type { Json } from '../plugin.ts';
import { valueBytes, type Outcome } from './boundary.ts';
import type { LogBucket, OutputRates, SandboxLimits } from './budgets.ts';
import { isQuotaExceeded, QuotaExceeded } from './faults.ts';
import { toHttpCall } from './http-call.ts';
import type { Generation } from './isolate.ts';
import type { Grants } from './permissions.ts';
import { finishRun, type Run, type Runs } from './runs.ts';
import type { RunInfo, SandboxServices } from './services.ts';
import { BUNDLE_FILENAME } from './source-positions.ts';

/** The sandbox as its operations see it. */
export interface OpHost {
  readonly grants: Grants;
  readonly limits: SandboxLimits;
  readonly services: SandboxServices;
  readonly logBucket: LogBucket;
  /** The plugin's overlay and http rates. */
  readonly rates: OutputRates;
  readonly runs: Runs;
  /**
   * Counts a refusal by a limit against `run`: a \`limit\` fault when the run ends (the first such
   * reason), or at once when it has already ended (a request it left running was refused).
   */
  violate(run: Run, reason: string): void;
  /** `text` with the stack frames of the plugin's bundle pointed at its source files (see `SourcePositions`). */
  pointAtSources(text: string): string;
  /** Schedules the plugin's timer in `generation`; answers its id. */
  startTimer(generation: Generation, ms: number, repeat: boolean): number;
}

/** One operation as the plugin sent it, with the run it came from. */
interface OpCall {
  generation: Generation;
  run: Run;
  args: Record<string, unknown>;
  argsJson: string;
}

type Serve<Answer> = (host: OpHost, call: OpCall) => Answer;
type SandboxOp = { answer: 'call'; serve: Serve<Outcome> } | { answer: 'request'; serve: Serve<Promise<unknown>> };

const call = (serve: Serve<Outcome>) => ({ answer: 'call', serve }) as const;
const request = (serve: Serve<Promise<unknown>>) => ({ answer: 'request', serve: withinRequestQuotas(serve) }) as const;

/**
 * A request counts as waiting until it is answered, up to `requestsWaiting` at once. One refused
 * by a quota (`QuotaExceeded`, thrown here or by the service) is a `limit` fault of its run; the
 * plugin's promise rejects with the same message.
 */
function withinRequestQuotas(serve: Serve<Promise<unknown>>): Serve<Promise<unknown>> {
  return (host, opCall) => {
    const tooMany = host.rates.requestMade();
    const served = tooMany ? Promise.reject(new QuotaExceeded(tooMany)) : serve(host, opCall).finally(() => host.rates.requestAnswered());
    return served.catch((error: unknown) => {
      if (isQuotaExceeded(error)) host.violate(opCall.run, error.message);
      throw error;
    });
  };
}

/** A call refused by a limit: a `limit` fault of the run (see `violate`), and the plugin's call throws with this reason. */
function refuse(host: OpHost, run: Run, reason: string): Outcome {
  host.violate(run, reason);
  return { error: reason };
}

/** The run in words: `one event`, `one timer`, `setup`. */
function runName(info: RunInfo): string {
  return info.kind === 'setup' ? 'setup' : `one ${info.kind}`;
}

/** `fields` with every string in them passed through `pointAtSources`. */
function pointFieldsAtSources(host: OpHost, fields: Record<string, Json>): Record<string, Json> {
  const point = (value: Json): Json => {
    if (typeof value === 'string') return host.pointAtSources(value);
    if (Array.isArray(value)) return value.map(point);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, point(item)]));
    return value;
  };
  return point(fields) as Record<string, Json>;
}

const MAX_KEY_LENGTH = 256;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

function kvKey(host: OpHost, args: Record<string, unknown>): string {
  if (!host.grants.kv) throw new Error('not allowed to use kv (grant "kv" is missing)');
  const key = String(args.key);
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw new Error(`a kv key has 1 to ${MAX_KEY_LENGTH} characters`);
  return key;
}

export const SANDBOX_OPS = {
  subscribe: call((host, { generation, args }) => {
    const eventType = String(args.eventType);
    if (!host.grants.receives(eventType)) return { error: `not allowed to receive ${eventType} events (grant "events:${eventType}" is missing)` };
    generation.subscribed.add(eventType);
    return { result: null };
  }),
  overlay: call((host, { run, args, argsJson }) => {
    const channel = String(args.channel);
    if (!host.grants.writes(channel)) return { error: `not allowed to write to overlay channel "${channel}"` };
    const bytes = valueBytes(argsJson, args, 'data');
    if (bytes > host.limits.overlayMaxBytes) return refuse(host, run, `an overlay message of ${bytes} bytes exceeds the limit of ${host.limits.overlayMaxBytes}`);
    if (run.overlayMessages >= host.limits.overlayPerRun) return refuse(host, run, `more than ${host.limits.overlayPerRun} overlay messages in ${runName(run.info)}`);
    const overRate = host.rates.overlayMessage();
    if (overRate) return refuse(host, run, overRate);
    run.overlayMessages += 1;
    // Parsed from the plugin's JSON just now: plain data, nothing shared with the isolate.
    host.services.overlay(channel, (args.data ?? null) as Json, args.kind === 'state' ? 'state' : 'message', run.info);
    return { result: null };
  }),
  log: call((host, { run, args, argsJson }) => {
    const level = LOG_LEVELS.find((name) => name === args.level) ?? 'info';
    const fields = args.fields && typeof args.fields === 'object' ? (args.fields as Record<string, Json>) : undefined;
    const message = String(args.message).slice(0, 4096);
    const overRate = host.logBucket.take(Buffer.byteLength(message) + (fields ? valueBytes(argsJson, args, 'fields') : 0));
    if (overRate) return refuse(host, run, overRate);
    // A line that quotes one of the plugin's stacks (`error.stack`) names the plugin's files, as its faults do.
    if (argsJson.includes(BUNDLE_FILENAME)) host.services.log(level, host.pointAtSources(message), fields && pointFieldsAtSources(host, fields), run.info);
    else host.services.log(level, message, fields, run.info);
    return { result: null };
  }),
  timer: call((host, { generation, run, args }) => {
    // Every timer of the isolate not yet fired or cleared, intervals included.
    if (generation.timers.size >= host.limits.maxTimers) return refuse(host, run, `more than ${host.limits.maxTimers} timers at once`);
    const ms = Math.max(host.limits.minTimerMs, Math.min(2_147_483_647, Number(args.ms) || 0));
    return { result: host.startTimer(generation, ms, args.repeat === true) };
  }),
  clearTimer: call((_host, { generation, args }) => {
    const id = Number(args.id);
    clearTimeout(generation.timers.get(id));
    generation.timers.delete(id);
    return { result: null };
  }),
  /**
   * The prelude's word that a call's arguments (`{op, chars}`) were longer than `callMaxChars`:
   * refused inside the isolate, so that they never cross.
   */
  oversize: call((host, { run, args }) =>
    refuse(host, run, `a call of ${Number(args.chars)} characters to ${String(args.op).slice(0, 40)} exceeds the limit of ${host.limits.callMaxChars}`),
  ),
  /** The async work of a run has finished (`{run, error?}`). */
  done: call((host, { args }) => {
    const target = host.runs.get(Number(args.run));
    if (target) finishRun(target, { error: typeof args.error === 'string' ? args.error : undefined });
    return { result: null };
  }),
  kvGet: request(async (host, { run, args }) => host.services.kvGet(kvKey(host, args), run.info)),
  kvSet: request(async (host, { run, args, argsJson }) => {
    const key = kvKey(host, args);
    if (valueBytes(argsJson, args, 'value') > host.limits.kvValueMaxBytes) throw new QuotaExceeded(`a kv value is at most ${host.limits.kvValueMaxBytes} bytes`);
    return host.services.kvSet(key, (args.value ?? null) as Json, run.info);
  }),
  kvDelete: request(async (host, { run, args }) => host.services.kvDelete(kvKey(host, args), run.info)),
  httpFetch: request(async (host, { run, args }) => {
    const httpCall = toHttpCall(args, host.grants);
    const overRate = host.rates.httpRequest();
    if (overRate) throw new QuotaExceeded(overRate);
    return host.services.fetch(httpCall, host.grants, run.info);
  }),
} satisfies Record<string, SandboxOp>;

type SandboxOpName = keyof typeof SANDBOX_OPS;

function opNamed(name: unknown): SandboxOp | undefined {
  // Own keys only: a name like "constructor" must not reach Object's prototype.
  return typeof name === 'string' && Object.hasOwn(SANDBOX_OPS, name) ? SANDBOX_OPS[name as SandboxOpName] : undefined;
}

/** How the host serves `name` sent through `call`, if that is an operation answered at once. */
export function callOp(name: unknown): Serve<Outcome> | undefined {
  const op = opNamed(name);
  return op?.answer === 'call' ? op.serve : undefined;
}

/** How the host serves `name` sent through `request`, if that is an operation answered later. */
export function requestOp(name: unknown): Serve<Promise<unknown>> | undefined {
  const op = opNamed(name);
  return op?.answer === 'request' ? op.serve : undefined;
}
