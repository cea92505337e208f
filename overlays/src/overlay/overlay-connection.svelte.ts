import { createSubscriber } from 'svelte/reactivity';
import { ReconnectingSocket, sameHostSocketUrl, type SocketStatus } from '../lib/reconnecting-socket.ts';
import { OverlayResumeCursor, type OverlayDelivery } from './overlay-protocol.ts';

export type { OverlayDelivery } from './overlay-protocol.ts';

export interface OverlayConnectionOptions {
  widget: string;
  /** The channel this widget shows, e.g. `alerts/alerts`. */
  channel: string;
  /** The overlay token from the page URL; without one there is nothing to connect to. */
  token: string | null;
}

/**
 * One widget's link to the host's overlay hub. The socket is opened while something reads
 * `status` or `state`, or listens, inside an effect (createSubscriber), and closed after.
 */
export class OverlayConnection {
  readonly widget: string;
  readonly channel: string;
  #status = $state<SocketStatus>('idle');
  #lastClose = $state<{ code: number; reason: string } | null>(null);
  /** The channel's latest state (undefined until one arrived; null when the host has none). */
  #state = $state.raw<unknown>(undefined);
  readonly #listeners = new Set<(delivery: OverlayDelivery) => void>();
  readonly #cursor = new OverlayResumeCursor();
  readonly #socket: ReconnectingSocket | null;
  readonly #subscribe: () => void;

  constructor(options: OverlayConnectionOptions) {
    this.widget = options.widget;
    this.channel = options.channel;
    const { token } = options;
    this.#socket =
      token === null
        ? null
        : new ReconnectingSocket({
            url: () =>
              sameHostSocketUrl(
                `/ws/overlay/${encodeURIComponent(options.widget)}?token=${encodeURIComponent(token)}`,
                window.location,
              ),
            onOpen: () => this.#cursor.opened(),
            onFrame: (frame, send) => {
              const step = this.#cursor.receive(frame);
              if (step.reply) send(step.reply);
              if (step.delivery && step.delivery.channel === this.channel) this.#deliver(step.delivery);
            },
            onStatus: (status, lastClose) => {
              this.#status = status;
              this.#lastClose = lastClose;
            },
          });
    this.#subscribe = createSubscriber(() => {
      this.#socket?.start();
      return () => this.#socket?.stop();
    });
  }

  /** Opens the socket for as long as the calling effect lives. */
  open(): void {
    this.#subscribe();
  }

  /** Connection status, for the debug dot. */
  get status(): SocketStatus {
    this.#subscribe();
    return this.#status;
  }

  get lastClose(): { code: number; reason: string } | null {
    this.#subscribe();
    return this.#lastClose;
  }

  get hasToken(): boolean {
    return this.#socket !== null;
  }

  /** The channel's latest state; reading it in an effect or template keeps the socket open. */
  get state(): unknown {
    this.#subscribe();
    return this.#state;
  }

  /**
   * Every state and message of the channel, in the order the host sent them, each exactly once.
   * Call inside `$effect` and return its result, so the listener and the socket end with it.
   */
  listen(listener: (delivery: OverlayDelivery) => void): () => void {
    this.#subscribe();
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #deliver(delivery: OverlayDelivery): void {
    if (delivery.kind === 'state') this.#state = delivery.data;
    for (const listener of this.#listeners) {
      try {
        listener(delivery);
      } catch (error) {
        // One malformed frame must not stop the widget.
        console.error('overlay: a frame could not be shown', error);
      }
    }
  }
}
