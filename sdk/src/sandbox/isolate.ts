/**
 * The isolate's lifecycle. One generation is one isolate with its context: the prelude, then the
 * plugin's bundle, evaluated in it, and the host's references to the prelude's entry points. A
 * fault that leaves the isolate unusable replaces the generation with a new one.
 */
import ivm from 'isolated-vm';
import { PROGRESS_BYTES } from './batch.ts';
import { messageOf, TIMED_OUT } from './boundary.ts';
import type { SandboxLimits } from './budgets.ts';
import type { FaultKind } from './faults.ts';
import { PRELUDE } from './prelude.ts';
import { BUNDLE_FILENAME, PRELUDE_FILENAME } from './source-positions.ts';

export interface Generation {
  number: number;
  isolate: ivm.Isolate;
  context: ivm.Context;
  entries: { setup: ivm.Reference; dispatch: ivm.Reference; fire: ivm.Reference; settle: ivm.Reference };
  /** Shared with the isolate: the index of the batch's event being handled, and the ms the entry had run before it. */
  progress: Int32Array;
  timers: Map<number, NodeJS.Timeout>;
  subscribed: Set<string>;
}

/** The host functions behind the prelude's `call` and `request`, and what to do when the isolate fails. */
export interface HostFunctions {
  call(op: unknown, argsJson: unknown): string;
  request(id: unknown, op: unknown, argsJson: unknown): void;
  failed(message: string): void;
}

/** The plugin's bundle did not evaluate: a fault of its setup that disables the plugin. */
export class PluginLoadError extends Error {
  constructor(
    readonly kind: FaultKind,
    message: string,
  ) {
    super(`loading the plugin failed: ${message}`);
  }
}

/** A new isolate running `code`; throws `PluginLoadError` when the plugin's code fails to load. */
export async function createGeneration(number: number, code: string, limits: SandboxLimits, host: HostFunctions): Promise<Generation> {
  const isolate = new ivm.Isolate({ memoryLimit: limits.heapMb, onCatastrophicError: host.failed });
  try {
    return await prepare(number, isolate, code, limits, host);
  } catch (error) {
    if (!isolate.isDisposed) isolate.dispose();
    throw error;
  }
}

export function disposeGeneration(generation: Generation): void {
  for (const timer of generation.timers.values()) clearTimeout(timer);
  generation.timers.clear();
  if (!generation.isolate.isDisposed) generation.isolate.dispose();
}

/**
 * What the bundle threw while it was evaluated: its stack inside the isolate when that names the
 * bundle (the plugin threw at its top level), else the message. Never the host's frames, which
 * follow isolated-vm's boundary line.
 */
function loadFailure(error: unknown): string {
  const lines = error instanceof Error && typeof error.stack === 'string' ? error.stack.split('\n') : [];
  const boundary = lines.findIndex((line) => line.includes('<isolated-vm boundary>'));
  const inside = boundary < 0 ? [] : lines.slice(0, boundary);
  return inside.some((line) => line.includes(BUNDLE_FILENAME)) ? inside.join('\n') : messageOf(error);
}

async function prepare(number: number, isolate: ivm.Isolate, code: string, limits: SandboxLimits, host: HostFunctions): Promise<Generation> {
  const context = await isolate.createContext();
  const global = context.global;
  await global.set('globalThis', global.derefInto());
  // Both are synchronous: the isolate is only ever entered from this thread (applySync), so the
  // host knows which run is calling.
  await global.set('__ttlp_call', new ivm.Callback(host.call));
  await global.set('__ttlp_request', new ivm.Callback(host.request));
  const shared = new SharedArrayBuffer(PROGRESS_BYTES);
  await global.set('__ttlp_progress', new ivm.ExternalCopy(shared).copyInto({ release: true }));
  await global.set('__ttlp_call_max_chars', limits.callMaxChars);
  const timeout = limits.cpuMsPerRun * 10;
  // Named, so that stack frames tell the plugin's code from the prelude's (see `SourcePositions`).
  await context.eval(PRELUDE, { timeout, filename: PRELUDE_FILENAME });
  try {
    await context.eval(code, { timeout, filename: BUNDLE_FILENAME });
  } catch (error) {
    throw new PluginLoadError(isolate.isDisposed ? 'memory' : messageOf(error) === TIMED_OUT ? 'timeout' : 'crash', loadFailure(error));
  }
  const entries = (await global.get('__ttlp', { reference: true })) as ivm.Reference<Record<string, unknown>>;
  const entry = async (name: string) => (await entries.get(name, { reference: true })) as ivm.Reference;
  const generation: Generation = {
    number,
    isolate,
    context,
    entries: { setup: await entry('setup'), dispatch: await entry('dispatch'), fire: await entry('fire'), settle: await entry('settle') },
    progress: new Int32Array(shared),
    timers: new Map(),
    subscribed: new Set(),
  };
  entries.release();
  return generation;
}
