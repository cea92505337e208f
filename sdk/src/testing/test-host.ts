/**
 * `createTestHost()`: runs a plugin from its folder in a real isolate, exactly as the host does
 * (same bundling, permissions and limits), with no host behind it. Events go in; overlay
 * messages, kv changes, logs, http calls and faults are recorded; http is answered from fixtures.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { UnifiedEvent } from '../contract/unified-event.ts';
import { validateUnifiedEvent } from '../contract/validate.ts';
import { requestedPermissions, validateManifest, validatePluginConfig, type PluginManifest } from '../manifest.ts';
import type { Json } from '../plugin.ts';
import { bundlePlugin, DEFAULT_LIMITS, KvUsage, PluginSandbox, storedJsonBytes, type Fault, type HttpAnswer, type HttpCall, type LogLevel, type SandboxLimits, type SandboxOptions } from '../sandbox/index.ts';

/**
 * CPU budgets for tests of what a plugin does rather than what it costs: whole captures sent as fast
 * as a loaded machine goes can trip the budgets meant for a live stream's pace (and a busy virtual
 * machine's CPU clock charges an entry for the time it was stalled).
 */
export const ROOMY_CPU_LIMITS: Partial<SandboxLimits> = { cpuMsPerRun: 1000, cpuMsPerSecond: 2000 };

/** How often `timersRun` looks whether the plugin's timers are done. */
const TIMERS_POLL_MS = 5;

export interface OverlayRecord {
  channel: string;
  data: Json;
  kind: 'message' | 'state';
  eventId?: string;
}

export interface LogRecord {
  level: LogLevel;
  message: string;
  fields?: Record<string, Json>;
}

export interface KvChange {
  op: 'set' | 'delete';
  key: string;
  value?: Json;
}

/** An answer for matching requests: a response, or a function of the request. */
export type HttpFixture = Partial<HttpAnswer> | ((call: HttpCall) => Partial<HttpAnswer> | Promise<Partial<HttpAnswer>>);

export interface TestHostOptions {
  /** The plugin's folder (with its package.json). */
  plugin: string;
  /** Settings, checked against the plugin's config schema (defaults filled in). */
  config?: Record<string, unknown>;
  /** Granted permissions; every requested permission by default. */
  grants?: string[];
  /** `"METHOD url"` or `url` → answer. Requests without a fixture get a 404 and are recorded. */
  http?: Record<string, HttpFixture>;
  /** Initial kv contents (counted against the kv quota as the host counts what is stored). */
  kv?: Record<string, Json>;
  limits?: Partial<SandboxLimits>;
  /**
   * Starts the sandbox the plugin runs in: `PluginSandbox` in this thread unless given (the host
   * passes one that runs it in a worker thread, so no plugin code runs on its own thread).
   */
  startSandbox?: (options: SandboxOptions) => Promise<TestSandbox>;
}

/** What the test host needs of a sandbox; `idle` only where `timersRun` is used. */
export interface TestSandbox {
  readonly disabled: string | undefined;
  readonly idle?: boolean;
  dispatchMany(events: ReadonlyArray<{ eventId: string; eventType: string }>, jsons: readonly string[]): Promise<Fault[]>;
  close(): Promise<void>;
}

export interface TestHost {
  manifest: PluginManifest;
  overlay: OverlayRecord[];
  logs: LogRecord[];
  kvChanges: KvChange[];
  kv: Map<string, Json>;
  httpCalls: HttpCall[];
  faults: Fault[];
  /** Why the plugin was disabled, if it was. */
  readonly disabled: string | undefined;
  /** Delivers events in order, each after the previous one's handlers finished. */
  send(...events: UnifiedEvent[]): Promise<void>;
  /**
   * Resolves once the plugin's timers have fired and the work they started has ended: what a
   * timer publishes or saves is there afterwards. A plugin with an interval never gets there.
   */
  timersRun(): Promise<void>;
  /** Overlay messages sent on `channel`, in order. */
  messages(channel: string): Json[];
  /** The last state set on `channel`. */
  state(channel: string): Json | undefined;
  close(): Promise<void>;
}

export async function createTestHost(options: TestHostOptions): Promise<TestHost> {
  const packageJson = JSON.parse(await readFile(path.join(options.plugin, 'package.json'), 'utf8')) as { ttlp?: unknown };
  const checked = validateManifest(packageJson.ttlp);
  if (!checked.ok) throw new Error(`invalid manifest in ${options.plugin}/package.json:\n  - ${checked.problems.join('\n  - ')}`);
  const manifest = checked.manifest;
  const config = validatePluginConfig(manifest, options.config ?? {});
  if (!config.ok) throw new Error(`invalid config for ${manifest.id}:\n  - ${config.problems.join('\n  - ')}`);
  const bundle = await bundlePlugin(options.plugin, manifest.entry);

  const overlay: OverlayRecord[] = [];
  const logs: LogRecord[] = [];
  const kvChanges: KvChange[] = [];
  const kv = new Map<string, Json>(Object.entries(options.kv ?? {}));
  // The kv quota, kept as the host's kv cache keeps it.
  const kvUsage = new KvUsage({ ...DEFAULT_LIMITS, ...options.limits }, new Map([...kv].map(([key, value]) => [key, storedJsonBytes(value)])));
  const httpCalls: HttpCall[] = [];
  const faults: Fault[] = [];
  const fixtures = options.http ?? {};

  const startSandbox = options.startSandbox ?? ((sandboxOptions: SandboxOptions) => PluginSandbox.start(sandboxOptions));
  const sandbox = await startSandbox({
    pluginId: manifest.id,
    ...bundle,
    config: config.config,
    grants: options.grants ?? requestedPermissions(manifest),
    limits: options.limits,
    onFault: (fault) => faults.push(fault),
    services: {
      overlay: (channel, data, kind, run) => overlay.push({ channel, data, kind, ...(run.eventId ? { eventId: run.eventId } : {}) }),
      log: (level, message, fields) => logs.push({ level, message, ...(fields ? { fields } : {}) }),
      kvGet: async (key) => kv.get(key),
      kvSet: async (key, value) => {
        kvUsage.change(key, value);
        kv.set(key, value);
        kvChanges.push({ op: 'set', key, value });
      },
      kvDelete: async (key) => {
        kvUsage.change(key, undefined);
        kv.delete(key);
        kvChanges.push({ op: 'delete', key });
      },
      fetch: async (call) => {
        httpCalls.push(call);
        const fixture = fixtures[`${call.method} ${call.url}`] ?? fixtures[call.url];
        const answer = typeof fixture === 'function' ? await fixture(call) : fixture;
        if (!answer) return { status: 404, headers: {}, body: `no fixture for ${call.method} ${call.url}` };
        return { status: answer.status ?? 200, headers: answer.headers ?? {}, body: answer.body ?? '' };
      },
    },
  });

  return {
    manifest,
    overlay,
    logs,
    kvChanges,
    kv,
    httpCalls,
    faults,
    get disabled() {
      return sandbox.disabled;
    },
    async send(...events) {
      for (const event of events) {
        const valid = validateUnifiedEvent(event);
        if (!valid.ok) throw new Error(`not a valid UnifiedEvent: ${valid.errors.join('; ')}`);
      }
      // In batches, as the host delivers them.
      await sandbox.dispatchMany(events, events.map((event) => JSON.stringify(event)));
    },
    async timersRun() {
      if (sandbox.idle === undefined) throw new Error("timersRun needs a sandbox that says when it is idle (the default one does)");
      while (!sandbox.idle) await new Promise((resolve) => setTimeout(resolve, TIMERS_POLL_MS));
    },
    messages: (channel) => overlay.filter((entry) => entry.channel === channel && entry.kind === 'message').map((entry) => entry.data),
    state: (channel) => overlay.filter((entry) => entry.channel === channel && entry.kind === 'state').at(-1)?.data,
    close: () => sandbox.close(),
  };
}
