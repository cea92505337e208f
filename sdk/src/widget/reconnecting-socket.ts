/**
 * A WebSocket that reconnects by itself, shared by the overlay widgets and the settings page's
 * live feed. Back-off as partysocket does it: about 1 s, ×1.3 per failed attempt, 10 s cap,
 * jittered; the attempt count resets once a connection has stayed up for 5 s. A connection that
 * brings no frame for `deadAfterMs` (the host pings every 15 s) is taken for dead and replaced.
 */

export type SocketStatus = 'idle' | 'connecting' | 'open' | 'waiting';

export const RECONNECT_BASE_MS = 1000;
export const RECONNECT_GROWTH = 1.3;
export const RECONNECT_CAP_MS = 10_000;
export const STABLE_AFTER_MS = 5000;
export const DEAD_AFTER_MS = 40_000;
export const CONNECT_TIMEOUT_MS = 10_000;

/** Delay before reconnect attempt `attempt` (1, 2, …): 80–100 % of min(cap, 1 s × 1.3^(attempt−1)). */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * RECONNECT_GROWTH ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.8 + 0.2 * random()));
}

export interface ReconnectingSocketOptions {
  /** Computed at every attempt, so a changed token or host is picked up. */
  url: () => string;
  /** Called once per successful open; `send` writes a JSON frame on this connection. */
  onOpen?: (send: (frame: unknown) => void) => void;
  /** Every frame that parses as a JSON object. */
  onFrame: (frame: Record<string, unknown>, send: (frame: unknown) => void) => void;
  onStatus?: (status: SocketStatus, lastClose: { code: number; reason: string } | null) => void;
  deadAfterMs?: number;
  connectTimeoutMs?: number;
  createSocket?: (url: string) => WebSocket;
  random?: () => number;
}

export class ReconnectingSocket {
  readonly #options: ReconnectingSocketOptions;
  #running = false;
  #socket: WebSocket | null = null;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stableTimer: ReturnType<typeof setTimeout> | undefined;
  #deadTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #lastClose: { code: number; reason: string } | null = null;

  constructor(options: ReconnectingSocketOptions) {
    this.#options = options;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#connect();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    this.#drop(this.#socket, 1000, 'stopped');
    this.#status('idle');
  }

  #status(status: SocketStatus): void {
    this.#options.onStatus?.(status, this.#lastClose);
  }

  #connect(): void {
    if (!this.#running) return;
    let socket: WebSocket;
    try {
      socket = (this.#options.createSocket ?? ((url) => new WebSocket(url)))(this.#options.url());
    } catch {
      // A malformed URL throws synchronously; treat it like a failed attempt.
      this.#scheduleRetry();
      return;
    }
    this.#socket = socket;
    this.#status('connecting');
    const send = (frame: unknown) => {
      if (this.#socket === socket && socket.readyState === 1) socket.send(JSON.stringify(frame));
    };
    this.#connectTimer = setTimeout(() => this.#lose(socket, 4000, 'connect timeout'), this.#options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      clearTimeout(this.#connectTimer);
      this.#stableTimer = setTimeout(() => (this.#attempt = 0), STABLE_AFTER_MS);
      this.#armDeadTimer(socket);
      this.#status('open');
      this.#options.onOpen?.(send);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.#socket !== socket) return;
      this.#armDeadTimer(socket);
      if (typeof event.data !== 'string') return;
      let frame: unknown;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame !== null && typeof frame === 'object' && !Array.isArray(frame)) {
        this.#options.onFrame(frame as Record<string, unknown>, send);
      }
    };
    socket.onclose = (event: CloseEvent) => this.#lose(socket, event.code, event.reason);
    socket.onerror = () => {
      // A close event always follows; the retry is scheduled there.
    };
  }

  #armDeadTimer(socket: WebSocket): void {
    clearTimeout(this.#deadTimer);
    this.#deadTimer = setTimeout(() => this.#lose(socket, 4000, 'no frame'), this.#options.deadAfterMs ?? DEAD_AFTER_MS);
  }

  /** The connection `socket` is gone (closed, timed out, silent): forget it and try again later. */
  #lose(socket: WebSocket, code: number, reason: string): void {
    if (this.#socket !== socket) return;
    this.#lastClose = { code, reason };
    this.#drop(socket, 4000, reason);
    this.#scheduleRetry();
  }

  #drop(socket: WebSocket | null, code: number, reason: string): void {
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#stableTimer);
    clearTimeout(this.#deadTimer);
    if (!socket) return;
    if (this.#socket === socket) this.#socket = null;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
    try {
      // Closing ourselves instead of waiting for a close handshake a dead peer never answers.
      if (socket.readyState === 0 || socket.readyState === 1) socket.close(code, reason.slice(0, 100));
    } catch {
      // Already closing.
    }
  }

  #scheduleRetry(): void {
    if (!this.#running) return;
    this.#attempt += 1;
    const delay = reconnectDelay(this.#attempt, this.#options.random);
    this.#status('waiting');
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }
}

/** `ws:` or `wss:` URL of `path` on the host that served this page. */
export function sameHostSocketUrl(path: string, location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}
