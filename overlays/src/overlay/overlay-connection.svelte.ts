import { createSubscriber, SvelteMap } from 'svelte/reactivity';
import type { OverlayWidget } from '@ttlp/sdk';
import { OverlayResumeCursor, ReconnectingSocket, sameHostSocketUrl, type OverlayDelivery, type SocketStatus } from '@ttlp/sdk/widget';

export type { OverlayDelivery } from '@ttlp/sdk/widget';

export interface OverlayConnectionOptions {
  widget: OverlayWidget;
  /** The overlay token from the page URL; without one there is nothing to connect to. */
  token: string | null;
}

/**
 * One widget's link to the host's overlay hub: the frames of every channel the socket's hello
 * names (the alerts widget shows the rules plugin's channel too). The socket is opened while
 * something reads `status` or a state, or listens, inside an effect (createSubscriber), and
 * closed after.
 */
export class OverlayConnection {
  readonly widget: OverlayWidget;
  #status = $state<SocketStatus>('idle');
  #lastClose = $state<{ code: number; reason: string } | null>(null);
  /** Each channel's latest state (none until one arrived; null when the host has none). */
  readonly #states = new SvelteMap<string, unknown>();
  readonly #listeners = new Set<(delivery: OverlayDelivery) => void>();
  readonly #cursor = new OverlayResumeCursor();
  readonly #socket: ReconnectingSocket | null;
  readonly #subscribe: () => void;

  constructor(options: OverlayConnectionOptions) {
    this.widget = options.widget;
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
              if (step.delivery) this.#deliver(step.delivery);
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

  /** A channel's latest state (undefined until one arrived); reading it in an effect or template keeps the socket open. */
  stateOf(channel: string): unknown {
    this.#subscribe();
    return this.#states.get(channel);
  }

  /**
   * Every state and message of the socket's channels, in the order the host sent them, each exactly once.
   * Call inside `$effect` and return its result, so the listener and the socket end with it.
   */
  listen(listener: (delivery: OverlayDelivery) => void): () => void {
    this.#subscribe();
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #deliver(delivery: OverlayDelivery): void {
    if (delivery.kind === 'state') this.#states.set(delivery.channel, delivery.data);
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
