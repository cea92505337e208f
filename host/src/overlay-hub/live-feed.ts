/**
 * The admin live feed: every event of the `events` stream, as it happens, to the settings
 * page's sockets.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import type { UnifiedEvent } from '@ttlp/sdk/contract';
import type { Consumer, EventBus } from '../bus/types.ts';
import { errorSummary } from '../error-summary.ts';
import type { Logger } from '../log.ts';
import { ClientSocket, type SocketStats } from './client-socket.ts';
import { SOCKET_YIELD_BYTES, type SocketOwner } from './hub.ts';
import { CLOSE_GOING_AWAY, PROTOCOL_DEFAULTS, type EventFrame } from './protocol.ts';

/** The feed's consumer group on `events` is this plus the consumer name: one group per feed. */
export const LIVE_FEED_GROUP_PREFIX = 'live-feed:';

export interface LiveFeedOptions {
  bus: EventBus;
  log: Logger;
  /** This process's consumer name, unique per process and start (the pipeline's `consumerName()`). */
  consumer: string;
  /** Backlog in bytes past which a socket is closed as too slow. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** JSON ping (and WebSocket ping) interval. Default 15 s. */
  pingIntervalMs?: number;
  /** How long a socket closed as too slow may take to go before it is dropped. Default 5 s. */
  slowCloseGraceMs?: number;
  /** How long one bus read waits. Default 1000 ms. */
  blockMs?: number;
}

export class LiveFeed {
  private readonly sockets = new Set<ClientSocket>();
  private readonly stats: SocketStats = { framesSent: 0, slowClientsClosed: 0 };
  private received = 0;
  private consumer: Consumer | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: LiveFeedOptions) {}

  private get group(): string {
    return `${LIVE_FEED_GROUP_PREFIX}${this.options.consumer}`;
  }

  /**
   * Starts reading `events`; resolves once the feed's group exists. Like the overlay hub, every
   * feed has a group of its own, from the stream's end (every host shows every event live);
   * `close()` deletes it.
   */
  async start(): Promise<void> {
    if (this.closed) throw new Error('the live feed is closed');
    if (!this.consumer) {
      this.consumer = this.options.bus.consume({
        stream: 'events',
        group: this.group,
        consumer: this.options.consumer,
        stage: 'live-feed',
        startAt: 'end',
        batchSize: 500,
        blockMs: this.options.blockMs,
        handler: async (entries) => this.receive(entries.map((entry) => entry.payload)),
        onError: (error) => this.options.log.error({ err: errorSummary(error) }, 'live feed: reading the events stream failed'),
      });
      this.pingTimer = setInterval(() => {
        for (const socket of this.sockets) socket.heartbeat();
      }, this.options.pingIntervalMs ?? PROTOCOL_DEFAULTS.pingIntervalMs);
      this.pingTimer.unref();
    }
    await this.consumer.ready();
  }

  /** Stops reading and closes every socket with 1001. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    for (const socket of this.sockets) socket.close(CLOSE_GOING_AWAY, 'host shutting down');
    await this.consumer?.stop();
    // The group was this feed's alone; a host that crashed leaves its group behind (it costs little).
    await this.options.bus.deleteGroup('events', this.group).catch((error: unknown) => this.options.log.warn({ err: errorSummary(error) }, 'live feed group not deleted'));
  }

  /** Takes over an admin's upgraded socket; it only listens (anything it sends is ignored). */
  attach(socket: WebSocket, owner?: SocketOwner): void {
    if (this.closed) {
      socket.close(CLOSE_GOING_AWAY, 'host shutting down');
      return;
    }
    const connection: ClientSocket = new ClientSocket(socket, {
      maxBufferedBytes: this.options.maxBufferedBytes ?? PROTOCOL_DEFAULTS.maxBufferedBytes,
      slowCloseGraceMs: this.options.slowCloseGraceMs ?? PROTOCOL_DEFAULTS.slowCloseGraceMs,
      stats: this.stats,
      onGone: () => this.sockets.delete(connection),
    });
    this.sockets.add(connection);
    this.options.log.debug({ tokenId: owner?.tokenId }, 'live feed socket opened');
  }

  /** Connected live-feed sockets. */
  get connectedClients(): number {
    return this.sockets.size;
  }

  /** Frames written to live-feed sockets (events and pings). */
  get framesSent(): number {
    return this.stats.framesSent;
  }

  /** Live-feed sockets closed with 4008 because they could not keep up. */
  get slowClientsClosed(): number {
    return this.stats.slowClientsClosed;
  }

  /** Entries read from the `events` stream. */
  get eventsReceived(): number {
    return this.received;
  }

  private async receive(events: UnifiedEvent[]): Promise<void> {
    this.received += events.length;
    let sent = 0;
    for (const event of events) {
      if (this.sockets.size === 0) return;
      const text = JSON.stringify({ type: 'event', event } satisfies EventFrame);
      const bytes = Buffer.byteLength(text);
      for (const socket of this.sockets) if (socket.send(text, bytes)) sent += bytes;
      // As in the hub: a burst must not pile up in the sockets' buffers and read as slow clients.
      if (sent >= SOCKET_YIELD_BYTES) {
        sent = 0;
        await nextTurn();
      }
    }
  }
}
