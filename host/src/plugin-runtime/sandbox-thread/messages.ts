/**
 * The messages between the plugin host (main thread) and a plugin's worker thread. The worker owns
 * the plugin's isolate; the host owns what the plugin's calls reach (overlay, kv, http, logs).
 * Everything here crosses by structured clone: plain data, never a function or a class instance
 * (an error crosses as its name and message).
 */
import type { Json } from '@ttlp/sdk';
import type { Fault, HttpAnswer, HttpCall, LogLevel, PluginBundle, RunInfo, SandboxLimits } from '@ttlp/sdk/sandbox';

/** The plugin's bundle with its source map (the worker points the plugin's faults at its files) and how it runs. */
export interface WorkerStart extends PluginBundle {
  pluginId: string;
  config: Record<string, unknown>;
  grants: readonly string[];
  limits?: Partial<SandboxLimits>;
}

/** The host's side of the plugin's calls that wait for an answer. */
export type ServiceRequest =
  | { service: 'kvGet'; key: string }
  | { service: 'kvSet'; key: string; value: Json }
  | { service: 'kvDelete'; key: string }
  | { service: 'fetch'; call: HttpCall };

export type ServiceAnswer = { result: Json | HttpAnswer | null } | { error: { name: string; message: string } };

/** From the host to the worker. */
export type ToWorker =
  | { type: 'dispatch'; id: number; events: Array<{ eventId: string; eventType: string }>; jsons: string[] }
  /** The dispatch in hand stops after the event being handled (the host skips ahead). */
  | { type: 'stop-dispatch'; id: number }
  | { type: 'reload'; id: number; bundle: PluginBundle; config: Record<string, unknown> }
  | { type: 'fault'; id: number; kind: Fault['kind']; message: string; run: RunInfo }
  | { type: 'close'; id: number }
  | { type: 'answer'; id: number; answer: ServiceAnswer };

/** What the plugin did, in the order it did it; sent in bundles (see `Outbox`). */
export type PluginOutput =
  | { type: 'overlay'; channel: string; data: Json; kind: 'message' | 'state'; run: RunInfo }
  | { type: 'log'; level: LogLevel; message: string; fields: Record<string, Json> | undefined; run: RunInfo }
  | { type: 'request'; id: number; request: ServiceRequest; run: RunInfo }
  | { type: 'fault'; fault: Fault }
  | { type: 'disabled'; reason: string };

/** From the worker to the host. */
export type FromWorker =
  | { type: 'output'; items: PluginOutput[] }
  /** Answers a command (`id`); `subscribed` is the event types the plugin handles now. */
  | { type: 'done'; id: number; faults: Fault[]; subscribed: string[]; disabled: string | undefined }
  | { type: 'started'; subscribed: string[]; disabled: string | undefined }
  | { type: 'crashed'; message: string };
