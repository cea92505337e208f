/**
 * Prometheus metrics of one host (`GET /metrics`): events received, stored and rejected, bus
 * lag, plugin faults, dispatch time and lag, overlay clients. Counters are fed by ingest, the pipeline
 * and the plugin host as things happen; gauges that need a look at the bus are read at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventBus, StreamName } from '../bus/types.ts';
import type { PluginObserver } from '../plugin-runtime/plugin-host.ts';

/** Consumer groups whose lag is reported, by stream. */
const WATCHED_GROUPS: Array<{ stream: StreamName; group: string }> = [
  { stream: 'raw', group: 'normalizer' },
  { stream: 'events', group: 'storage' },
];

export interface OverlayClientCounts {
  /** Connected overlay sockets by widget. */
  overlayClients(): Record<string, number>;
}

export class HostMetrics {
  readonly registry = new Registry();
  readonly received: Counter;
  readonly stored: Counter<'type'>;
  readonly rejected: Counter<'code'>;
  readonly pluginFaults: Counter<'plugin' | 'kind'>;
  readonly ingestConnections: Counter<'provider' | 'user'>;
  readonly ingestRejected: Counter<'provider' | 'code'>;
  readonly pluginDispatch: Histogram<'plugin'>;
  readonly pluginLag: Gauge<'plugin'>;
  readonly pluginSkipped: Counter<'plugin'>;
  private overlay: OverlayClientCounts | undefined;

  constructor(bus: EventBus) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ttlp_process_' });
    this.received = new Counter({ name: 'ttlp_events_received_total', help: 'Raw messages published to the bus by this host', registers: [this.registry] });
    this.stored = new Counter({ name: 'ttlp_events_stored_total', help: 'Events stored, by event type', labelNames: ['type'], registers: [this.registry] });
    this.rejected = new Counter({
      name: 'ttlp_events_rejected_total',
      help: 'Raw messages the normalizer rejected (sent to the dead-letter stream), by code',
      labelNames: ['code'],
      registers: [this.registry],
    });
    this.pluginFaults = new Counter({ name: 'ttlp_plugin_faults_total', help: 'Plugin faults, by plugin and kind', labelNames: ['plugin', 'kind'], registers: [this.registry] });
    this.ingestConnections = new Counter({
      name: 'ttlp_ingest_connections_total',
      help: 'Live connections made (each starts a session), by provider and followed user',
      labelNames: ['provider', 'user'],
      registers: [this.registry],
    });
    this.ingestRejected = new Counter({
      name: 'ttlp_ingest_rejected_total',
      help: 'Live messages that could not be decoded (dead-lettered) or have no schema, by provider and code',
      labelNames: ['provider', 'code'],
      registers: [this.registry],
    });
    this.pluginDispatch = new Histogram({
      name: 'ttlp_plugin_dispatch_seconds',
      help: 'Time a plugin took per event (averaged over each batch)',
      labelNames: ['plugin'],
      buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1],
      registers: [this.registry],
    });
    this.pluginLag = new Gauge({
      name: 'ttlp_plugin_lag_events',
      help: 'Events of the stream a plugin has yet to handle (each plugin reads at its own pace)',
      labelNames: ['plugin'],
      registers: [this.registry],
    });
    this.pluginSkipped = new Counter({
      name: 'ttlp_plugin_skipped_events_total',
      help: 'Events a plugin skipped because it was too far behind',
      labelNames: ['plugin'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'ttlp_bus_lag_seconds',
      help: "Age of the stream's newest entry while a consumer group has not processed it (0 when caught up)",
      labelNames: ['stream', 'group'],
      registers: [this.registry],
      async collect() {
        for (const { stream, group } of WATCHED_GROUPS) {
          const last = await bus.lastId(stream).catch(() => undefined);
          const caughtUp = last === undefined || (await bus.processed(stream, group, last).catch(() => false));
          this.set({ stream, group }, caughtUp ? 0 : Math.max(0, (Date.now() - Number(last!.split('-')[0])) / 1000));
        }
      },
    });
    new Gauge({
      name: 'ttlp_bus_stream_length',
      help: 'Entries in each bus stream',
      labelNames: ['stream'],
      registers: [this.registry],
      async collect() {
        for (const stream of ['raw', 'events', 'overlay', 'dlq'] as const) this.set({ stream }, await bus.length(stream).catch(() => 0));
      },
    });
    const metrics = this;
    new Gauge({
      name: 'ttlp_overlay_clients',
      help: 'Connected overlay clients, by widget',
      labelNames: ['widget'],
      registers: [this.registry],
      collect() {
        for (const [widget, count] of Object.entries(metrics.overlay?.overlayClients() ?? {})) this.set({ widget }, count);
      },
    });
  }

  /** What the plugin host reports, as metrics. */
  pluginObserver(): PluginObserver {
    return {
      dispatched: (pluginId, events, seconds) => {
        if (events > 0) this.pluginDispatch.observe({ plugin: pluginId }, seconds / events);
      },
      faulted: (pluginId, kind) => this.pluginFaults.inc({ plugin: pluginId, kind }),
      lagged: (pluginId, events) => this.pluginLag.set({ plugin: pluginId }, events),
      skipped: (pluginId, events) => this.pluginSkipped.inc({ plugin: pluginId }, events),
    };
  }

  /** Where overlay client counts come from, once the overlay hub runs. */
  watchOverlay(source: OverlayClientCounts): void {
    this.overlay = source;
  }
}
