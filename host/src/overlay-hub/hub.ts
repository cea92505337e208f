/**
 * The overlay hub: reads what plugins publish on the `overlay` stream, numbers it per channel,
 * keeps a ring of recent messages and the last state of each channel, and sends it to the
 * widgets' WebSockets, with resume after a reconnect (docs/overlay-protocol.md).
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import type { Consumer, EventBus, OverlayMessage } from '../bus/types.ts';
import { errorSummary } from '../error-summary.ts';
import type { Logger } from '../log.ts';
import { OverlayChannel, type ChannelFrame, type ChannelSnapshot } from './channel.ts';
import { ClientSocket, type SocketStats } from './client-socket.ts';
import { HostSeal, type SealedFields } from './host-seal.ts';
import {
  CLOSE_GOING_AWAY,
  HOST_PUBLISHER,
  PROTOCOL_DEFAULTS,
  channelKey,
  isResumeFrame,
  type HelloFrame,
  type ResetFrame,
  type ResumeFrame,
} from './protocol.ts';

/** The hub's consumer group on `overlay` is this plus the consumer name: one group per hub. */
export const OVERLAY_HUB_GROUP_PREFIX = 'overlay-hub:';

/** Bytes handed to sockets before a batch gives the event loop a turn to pass them on to the network. */
export const SOCKET_YIELD_BYTES = 64 * 1024;

export interface OverlayHubOptions {
  bus: EventBus;
  log: Logger;
  /** This process's consumer name, unique per process and start (the pipeline's `consumerName()`). */
  consumer: string;
  /** Message frames kept per channel for resuming clients. Default 500. */
  bufferSize?: number;
  /** Backlog in bytes past which a socket is closed as too slow. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** JSON ping (and WebSocket ping) interval. Default 15 s. */
  pingIntervalMs?: number;
  /** How long a new socket may take to send `resume`. Default 5 s. */
  resumeTimeoutMs?: number;
  /** How long a socket closed as too slow may take to go before it is dropped. Default 5 s. */
  slowCloseGraceMs?: number;
  /** How long one bus read waits. Default 1000 ms. */
  blockMs?: number;
}

/** Who opened a socket, for the logs. */
export interface SocketOwner {
  tokenId: string;
}

/** One widget's socket. Until its resume is handled, live frames for it wait in `queue`. */
interface OverlayClient {
  /** A first-party widget's name, or a plugin's widget as `<pluginId>/<widgetId>`. */
  widget: string;
  /** The channels (`<pluginId>/<channel>`) the widget shows. */
  keys: readonly string[];
  connection: ClientSocket;
  /** Each channel as it was when the socket opened: catch-up or reset covers up to there. */
  snapshots: Map<string, ChannelSnapshot>;
  waiting: boolean;
  queue: ChannelFrame[];
  queuedBytes: number;
  resumeTimer: NodeJS.Timeout | undefined;
}

export class OverlayHub {
  /** Sequence numbers compare only within one epoch; a new hub (a host restart) starts a new one. */
  readonly epoch = randomBytes(12).toString('base64url');
  private readonly settings: Required<Omit<OverlayHubOptions, 'bus' | 'log' | 'consumer' | 'blockMs'>>;
  /**
   * Every channel published to since the hub started: plugins publish only the channels their
   * manifest declares, and a widget that connects later gets each one's state and recent messages.
   */
  private readonly channels = new Map<string, OverlayChannel>();
  private readonly subscribers = new Map<string, Set<OverlayClient>>();
  private readonly widgets = new Map<string, Set<OverlayClient>>();
  private readonly stats: SocketStats = { framesSent: 0, slowClientsClosed: 0 };
  /** Seals this host's own channel entries; entries claiming them without its seal are refused. */
  private readonly hostSeal = new HostSeal();
  private received = 0;
  private rejected = 0;
  private consumer: Consumer | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: OverlayHubOptions) {
    this.settings = {
      bufferSize: options.bufferSize ?? PROTOCOL_DEFAULTS.bufferSize,
      maxBufferedBytes: options.maxBufferedBytes ?? PROTOCOL_DEFAULTS.maxBufferedBytes,
      pingIntervalMs: options.pingIntervalMs ?? PROTOCOL_DEFAULTS.pingIntervalMs,
      resumeTimeoutMs: options.resumeTimeoutMs ?? PROTOCOL_DEFAULTS.resumeTimeoutMs,
      slowCloseGraceMs: options.slowCloseGraceMs ?? PROTOCOL_DEFAULTS.slowCloseGraceMs,
    };
  }

  /** The channel of `key`, created the first time it is asked for. */
  private channel(key: string): OverlayChannel {
    let channel = this.channels.get(key);
    if (!channel) {
      channel = new OverlayChannel(key, this.settings.bufferSize);
      this.channels.set(key, channel);
      this.subscribers.set(key, new Set());
    }
    return channel;
  }

  private get group(): string {
    return `${OVERLAY_HUB_GROUP_PREFIX}${this.options.consumer}`;
  }

  /**
   * Starts reading `overlay`; resolves once the hub's group exists. Every hub has a group of its
   * own (fan-out: every host must send every frame to its own sockets), created at the stream's
   * end because overlay frames are live. `close()` deletes it; a host that crashed leaves its
   * group behind on Redis, a few hundred bytes.
   */
  async start(): Promise<void> {
    if (this.closed) throw new Error('the overlay hub is closed');
    if (!this.consumer) {
      this.consumer = this.options.bus.consume({
        stream: 'overlay',
        group: this.group,
        consumer: this.options.consumer,
        stage: 'overlay-hub',
        startAt: 'end',
        batchSize: 500,
        blockMs: this.options.blockMs,
        handler: async (entries) => {
          let sent = 0;
          for (const entry of entries) {
            sent += this.receive(entry.payload);
            // Without a turn, a burst would pile up in every socket's buffer and read as slow clients.
            if (sent >= SOCKET_YIELD_BYTES) {
              sent = 0;
              await nextTurn();
            }
          }
        },
        onError: (error) => this.options.log.error({ err: errorSummary(error) }, 'overlay hub: reading the overlay stream failed'),
      });
      this.pingTimer = setInterval(() => this.heartbeat(), this.settings.pingIntervalMs);
      this.pingTimer.unref();
    }
    await this.consumer.ready();
  }

  /** Stops reading and closes every socket with 1001. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    for (const clients of this.widgets.values())
      for (const client of clients) client.connection.close(CLOSE_GOING_AWAY, 'host shutting down');
    await this.consumer?.stop();
    // The group was this hub's alone; a host that crashed leaves its group behind (it costs little).
    await this.options.bus.deleteGroup('overlay', this.group).catch((error: unknown) => this.options.log.warn({ err: errorSummary(error) }, 'overlay hub group not deleted'));
  }

  /**
   * Takes over a widget's upgraded socket: hello now, then catch-up or reset once it resumes.
   * `widget` is its name (`<pluginId>/<widgetId>`), `keys` the channels it shows, as its manifest
   * declares them.
   */
  attach(socket: WebSocket, widget: string, keys: readonly string[], owner?: SocketOwner): void {
    if (this.closed) {
      socket.close(CLOSE_GOING_AWAY, 'host shutting down');
      return;
    }
    const client: OverlayClient = {
      widget,
      keys,
      connection: new ClientSocket(socket, {
        maxBufferedBytes: this.settings.maxBufferedBytes,
        slowCloseGraceMs: this.settings.slowCloseGraceMs,
        stats: this.stats,
        onGone: () => this.forget(client),
        onText: (text) => this.onClientText(client, text),
      }),
      snapshots: new Map(keys.map((key) => [key, this.channel(key).snapshot()])),
      waiting: true,
      queue: [],
      queuedBytes: 0,
      resumeTimer: undefined,
    };
    if (!this.widgets.has(widget)) this.widgets.set(widget, new Set());
    this.widgets.get(widget)!.add(client);
    for (const key of keys) this.subscribers.get(key)?.add(client);
    const hello: HelloFrame = { type: 'hello', epoch: this.epoch, widget, channels: [...keys] };
    client.connection.send(JSON.stringify(hello));
    client.resumeTimer = setTimeout(() => this.resume(client, undefined), this.settings.resumeTimeoutMs);
    client.resumeTimer.unref();
    this.options.log.debug({ widget, tokenId: owner?.tokenId }, 'overlay socket opened');
  }

  /**
   * An entry of this host's own channel (`host/…`) for the `overlay` stream, with the seal this hub
   * checks: host-side publishers (the stream counters) go through the bus like plugins.
   */
  sealHostEntry<E extends SealedFields>(entry: E): E & { seal: string } {
    return { ...entry, seal: this.hostSeal.of(entry) };
  }

  /**
   * Numbers an overlay message on its channel and sends it to the channel's sockets (the bus
   * handler calls it). Answers the bytes it handed to sockets.
   */
  deliver(entry: OverlayMessage): number {
    if (this.closed) return 0;
    const key = channelKey(entry.pluginId, entry.channel);
    const frame = this.channel(key).append(entry);
    let sent = 0;
    for (const client of this.subscribers.get(key) ?? []) {
      if (!client.waiting) {
        if (client.connection.send(frame.text, frame.bytes)) sent += frame.bytes;
        continue;
      }
      // Waiting frames count against the same limit as the socket's backlog.
      if (client.connection.overflows(frame.bytes, client.queuedBytes)) {
        client.connection.closeTooSlow();
        continue;
      }
      client.queue.push(frame);
      client.queuedBytes += frame.bytes;
    }
    return sent;
  }

  /** The channel's newest sequence number, or undefined for a channel nothing was published to. */
  sequence(key: string): number | undefined {
    return this.channels.get(key)?.seq;
  }

  /** Connected sockets per widget that ever had one since the hub started. */
  get connectedClients(): Record<string, number> {
    return Object.fromEntries([...this.widgets].map(([widget, clients]) => [widget, clients.size]));
  }

  /** Connected sockets of a widget (`<pluginId>/<widgetId>`). */
  connectedTo(widget: string): number {
    return this.widgets.get(widget)?.size ?? 0;
  }

  /** Frames written to overlay sockets (hello, catch-up, reset, live, ping). */
  get framesSent(): number {
    return this.stats.framesSent;
  }

  /** Overlay sockets closed with 4008 because they could not keep up. */
  get slowClientsClosed(): number {
    return this.stats.slowClientsClosed;
  }

  /** Entries read from the `overlay` stream. */
  get entriesReceived(): number {
    return this.received;
  }

  /** Entries of the `overlay` stream that claimed the host's own channels without this hub's seal (malformed ones never get here: the bus dead-letters them). */
  get entriesRejected(): number {
    return this.rejected;
  }

  /** Takes one entry of the `overlay` stream; answers the bytes handed to sockets. */
  private receive(payload: OverlayMessage): number {
    this.received += 1;
    if (payload.pluginId === HOST_PUBLISHER && !this.hostSeal.fits(payload)) {
      this.rejected += 1;
      // Every host publishes its own counters, sealed for its own hub: another host's are expected here.
      const sealed = typeof (payload as SealedFields | undefined)?.seal === 'string';
      this.options.log[sealed ? 'debug' : 'warn']({ entry: describeEntry(payload) }, 'overlay hub: an overlay stream entry was ignored');
      return 0;
    }
    try {
      return this.deliver(payload);
    } catch (error) {
      // Acknowledged anyway: redelivering the batch would send its earlier frames twice.
      this.options.log.error({ err: errorSummary(error), channel: channelKey(payload.pluginId, payload.channel) }, 'overlay hub: a frame could not be sent');
      return 0;
    }
  }

  /** Only the first valid `resume` of a socket means anything; everything else is ignored. */
  private onClientText(client: OverlayClient, text: string): void {
    if (!client.waiting) return;
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (isResumeFrame(frame)) this.resume(client, frame);
  }

  /** Catch-up or reset for each of the client's channels, then the frames queued meanwhile. */
  private resume(client: OverlayClient, frame: ResumeFrame | undefined): void {
    if (!client.waiting) return;
    client.waiting = false;
    clearTimeout(client.resumeTimer);
    const sameEpoch = frame !== undefined && frame.epoch === this.epoch;
    for (const [key, snapshot] of client.snapshots) {
      const channel = this.channels.get(key) as OverlayChannel;
      const last = sameEpoch && Object.hasOwn(frame.last, key) ? frame.last[key] : undefined;
      const missed = last === undefined ? undefined : channel.replay(last, snapshot);
      const bytes = missed?.reduce((sum, missedFrame) => sum + missedFrame.bytes, 0) ?? 0;
      // A catch-up that would not fit the send limit is "too far behind" as well.
      if (missed && bytes + client.queuedBytes <= client.connection.headroom) {
        for (const missedFrame of missed) if (!client.connection.send(missedFrame.text, missedFrame.bytes)) return;
      } else {
        const reset: ResetFrame = { type: 'reset', channel: key, seq: snapshot.seq, state: snapshot.state?.data ?? null };
        if (!client.connection.send(JSON.stringify(reset))) return;
      }
    }
    const queue = client.queue;
    [client.queue, client.queuedBytes] = [[], 0];
    client.snapshots.clear();
    for (const queued of queue) if (!client.connection.send(queued.text, queued.bytes)) return;
  }

  private forget(client: OverlayClient): void {
    clearTimeout(client.resumeTimer);
    this.widgets.get(client.widget)?.delete(client);
    for (const key of client.keys) this.subscribers.get(key)?.delete(client);
    [client.queue, client.queuedBytes] = [[], 0];
  }

  private heartbeat(): void {
    for (const clients of this.widgets.values()) for (const client of clients) client.connection.heartbeat();
  }
}

/** A short, safe description of an entry for a log line. */
function describeEntry(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null) return typeof payload;
  const { pluginId, channel, kind } = payload as Record<string, unknown>;
  return { pluginId, channel, kind };
}
