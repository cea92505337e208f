/**
 * A connected overlay or live-feed socket with the host's send policy: sending never waits for
 * the client; a client whose backlog would pass the limit is closed with 4008 ("too slow").
 */
import { WebSocket, type RawData } from 'ws';
import { CLIENT_FRAME_MAX_BYTES, CLOSE_MESSAGE_TOO_BIG, CLOSE_TOO_SLOW, PING_TEXT } from './protocol.ts';

/** Counters one hub or feed keeps over all its sockets (read by the metrics exporter). */
export interface SocketStats {
  framesSent: number;
  slowClientsClosed: number;
}

export interface ClientSocketOptions {
  maxBufferedBytes: number;
  slowCloseGraceMs: number;
  stats: SocketStats;
  /** Called once, when the socket closes or is closed by the host, so its owner forgets it. */
  onGone: () => void;
  /** Text frames from the client within the size limit; binary frames are ignored. */
  onText?: (text: string) => void;
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

export class ClientSocket {
  private open = true;
  /** Answered the last WebSocket ping; a client that does not is a dead connection. */
  private alive = true;
  private released = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: WebSocket,
    private readonly options: ClientSocketOptions,
  ) {
    socket.on('pong', () => (this.alive = true));
    socket.on('message', (data, isBinary) => {
      // The server's maxPayload should stop these first; this holds even when the app set it higher.
      if (rawLength(data) > CLIENT_FRAME_MAX_BYTES) this.close(CLOSE_MESSAGE_TOO_BIG, 'frame too big');
      else if (!isBinary && this.open) options.onText?.(rawText(data));
    });
    socket.on('close', () => {
      this.open = false;
      clearTimeout(this.killTimer);
      this.release();
    });
  }

  get isOpen(): boolean {
    return this.open && this.socket.readyState === WebSocket.OPEN;
  }

  /** Bytes the socket could still take before it counts as too slow. */
  get headroom(): number {
    return this.options.maxBufferedBytes - this.socket.bufferedAmount;
  }

  /**
   * Whether `bytes` more, on top of `held` bytes waiting elsewhere for this socket, would pass
   * the limit. A lone frame larger than the limit passes when nothing is waiting before it.
   */
  overflows(bytes: number, held = 0): boolean {
    return held + bytes > this.headroom && held + this.socket.bufferedAmount > 0;
  }

  /**
   * Queues the text on the socket without waiting; false when the client is gone or was just
   * closed as too slow.
   */
  send(text: string, bytes = Buffer.byteLength(text)): boolean {
    if (!this.isOpen) return false;
    if (this.overflows(bytes)) {
      this.closeTooSlow();
      return false;
    }
    this.socket.send(text);
    this.options.stats.framesSent += 1;
    return true;
  }

  /** Closes with 4008: the client cannot keep up, and must not hold the others back. */
  closeTooSlow(): void {
    if (!this.open) return;
    this.options.stats.slowClientsClosed += 1;
    this.close(CLOSE_TOO_SLOW, 'too slow');
  }

  /** The JSON ping browsers can see, and a WebSocket ping whose missing answer ends a dead connection. */
  heartbeat(): void {
    if (!this.isOpen) return;
    if (!this.alive) {
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
    this.send(PING_TEXT);
  }

  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.socket.close(code, reason);
    // A client that does not read never gets to the close frame behind its backlog: drop it after a grace.
    this.killTimer = setTimeout(() => this.socket.terminate(), this.options.slowCloseGraceMs);
    this.killTimer.unref();
    this.release();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.options.onGone();
  }
}
