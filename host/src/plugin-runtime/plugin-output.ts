/**
 * One plugin's output on its way out: overlay messages to the `overlay` stream, kv changes to
 * `plugin_kv`, and a record of each in `actions_log`. Kept while the plugin handles a batch and
 * written when it is done (before the batch is acknowledged), or shortly after for output made
 * by timers. Each plugin writes its own: a write that fails holds up that plugin alone.
 */
import type { Json } from '@ttlp/sdk';
import { DEFAULT_LIMITS, messageOf, type RunInfo, type SandboxLimits } from '@ttlp/sdk/sandbox';
import type { EventBus, OverlayMessage } from '../bus/types.ts';
import { errorSummary } from '../error-summary.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/database.ts';
import { logActions, type ActionRecord } from '../store/plugins.ts';
import { KvCache } from './kv-cache.ts';

/** How soon output made outside a batch (timers, late async work) is written. */
const FLUSH_DELAY_MS = 100;
/** Pause between attempts while the store or the bus cannot take the output. */
const RETRY_DELAY_MS = 250;

export class PluginOutput {
  readonly kv: KvCache;
  private overlay: Array<{ message: OverlayMessage; run: RunInfo }> = [];
  private actions: ActionRecord[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly pluginId: string,
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly log: Logger,
    limits: Pick<SandboxLimits, 'kvKeys' | 'kvBytes'> = DEFAULT_LIMITS,
  ) {
    this.kv = new KvCache(store, pluginId, () => this.scheduleFlush(), limits);
  }

  overlayMessage(channel: string, data: Json, kind: 'message' | 'state', run: RunInfo): void {
    const message: OverlayMessage = { pluginId: this.pluginId, channel, kind, data, ...(run.eventId ? { eventId: run.eventId } : {}), at: new Date().toISOString() };
    this.overlay.push({ message, run });
    this.scheduleFlush();
  }

  /** Sets (or, `undefined`, deletes) a key; a write refused by the kv quota is recorded as an error and rejects. */
  async kvSet(key: string, value: Json | undefined, run: RunInfo): Promise<void> {
    const action = value === undefined ? 'kv.delete' : 'kv.set';
    try {
      await this.kv.set(key, value);
    } catch (error) {
      this.record(run, action, 'error', { error: messageOf(error) });
      throw error;
    }
    this.record(run, action, 'ok');
  }

  record(run: RunInfo, action: string, status: 'ok' | 'error', extra: Partial<ActionRecord> = {}): void {
    this.actions.push({ pluginId: this.pluginId, action, status, ...(run.eventId ? { eventId: run.eventId } : {}), ...extra });
    this.scheduleFlush();
  }

  /**
   * Writes what is kept, one flush at a time; resolves once it is written. While the store or the
   * bus cannot take it, tries again until it can or the plugin stops.
   */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const next = this.flushing.then(() => this.writeUntilDone());
    this.flushing = next;
    return next;
  }

  /** Writes what is left, once: what cannot be written now is given up, with the reason in the log. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async writeUntilDone(): Promise<void> {
    for (;;) {
      try {
        return await this.write();
      } catch (error) {
        // Data the store refuses is refused again on every try: it is given up, as is what is left when the plugin stops.
        if (this.closed || isDataError(error)) {
          this.log.error({ err: errorSummary(error) }, `the output of plugin ${this.pluginId} could not be written and is given up: ${errorSummary(error)}`);
          this.overlay = [];
          this.actions = [];
          this.kv.discardPending();
          return;
        }
        this.log.error({ err: errorSummary(error) }, `the output of plugin ${this.pluginId} could not be written (${errorSummary(error)}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
  }

  /** Overlay messages first (what the streamer sees), then kv, then the records of both. */
  private async write(): Promise<void> {
    if (this.overlay.length > 0) {
      const overlay = this.overlay;
      await this.bus.publishMany('overlay', overlay.map((entry) => entry.message));
      this.overlay = this.overlay.slice(overlay.length);
      for (const { message, run } of overlay) this.actions.push({ pluginId: this.pluginId, action: `overlay:${message.channel}`, status: 'ok', ...(run.eventId ? { eventId: run.eventId } : {}) });
    }
    await this.kv.flush();
    if (this.actions.length > 0) {
      const records = this.actions;
      await logActions(this.store, records);
      this.actions = this.actions.slice(records.length);
    }
  }

  private scheduleFlush(): void {
    if (this.closed) return;
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, FLUSH_DELAY_MS).unref();
  }
}

/** PostgreSQL's class 22, data exceptions (a NUL character in jsonb, say): the data, not the store, is at fault. */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code ?? (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' && code.startsWith('22');
}
