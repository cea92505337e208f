/**
 * A plugin widget's link to the host: `openWidget()` reads the page the host served, connects to
 * the widget's socket with its token, and delivers the plugin's messages and states — each once,
 * in order, resumed after a reconnect (the protocol of docs/overlay-protocol.md, as the
 * first-party widgets speak it). Channels are named as in the plugin (`main`, not `<pluginId>/main`).
 *
 * One type can describe what the plugin sends and what its widget reads:
 *
 *   type Messages = { main: { text: string } };
 *   const widget = openWidget<Messages, { color: string }>();
 *   widget.onMessage('main', (data) => show(data.text, widget.options.color));
 */
import { WIDGET_CONFIG_ELEMENT_ID, WIDGET_ROOT_ELEMENT_ID, type IgnoredOption, type WidgetPageConfig } from '../host-contract/widget-page.ts';
import { applyLook, lookOf } from './look.ts';
import { ReconnectingSocket, sameHostSocketUrl, type SocketStatus } from './reconnecting-socket.ts';
import { OverlayResumeCursor, type OverlayDelivery } from './resume-cursor.ts';

/** Where a message came from. */
export interface MessageMeta {
  /** The event that caused it, when there was one. */
  eventId: string | null;
  /** When the plugin sent it (ISO 8601). */
  at: string | null;
}

export interface Widget<Messages extends object, Options extends object> {
  /** The element to draw into: the whole page, transparent. */
  readonly root: HTMLElement;
  /** The URL's options, validated against the widget's schema, defaults filled in. */
  readonly options: Options;
  /** URL options left out because they broke the schema (the settings page says so too). */
  readonly ignoredOptions: readonly IgnoredOption[];
  readonly pluginId: string;
  readonly widgetId: string;
  /** The size the widget is made for. */
  readonly size: { width: number; height: number };
  /** `debug=1` in the URL: the widget may show what it does (the connection dot is shown already). */
  readonly debug: boolean;
  readonly status: SocketStatus;
  /** Each message sent on `channel` from now on; answers a function that stops listening. */
  onMessage<Channel extends keyof Messages & string>(channel: Channel, listener: (data: Messages[Channel], meta: MessageMeta) => void): () => void;
  /**
   * The channel's state, now if one is known and on every change (null: the plugin has set none
   * since the host started); answers a function that stops listening.
   */
  onState<Channel extends keyof Messages & string>(channel: Channel, listener: (state: Messages[Channel] | null) => void): () => void;
  /** The channel's latest state: undefined until one arrived. */
  state<Channel extends keyof Messages & string>(channel: Channel): Messages[Channel] | null | undefined;
  onStatus(listener: (status: SocketStatus) => void): () => void;
  /** Closes the socket for good. */
  close(): void;
}

type Listener = (delivery: OverlayDelivery) => void;

/** Reads the page's configuration; throws with what to do when the page is not a widget page. */
export function readPageConfig(document: Document): WidgetPageConfig {
  const element = document.getElementById(WIDGET_CONFIG_ELEMENT_ID);
  if (!element?.textContent) throw new Error('openWidget(): this page was not served by the ttlp host as a widget page (no #ttlp-widget configuration)');
  return JSON.parse(element.textContent) as WidgetPageConfig;
}

/** Connects this page's widget to the host. Call once, when the page loads. */
export function openWidget<Messages extends object = Record<string, unknown>, Options extends object = Record<string, unknown>>(): Widget<
  Messages,
  Options
> {
  const config = readPageConfig(document);
  const root = document.getElementById(WIDGET_ROOT_ELEMENT_ID) ?? document.body;
  if (config.look) applyLook(root, lookOf(config.options));
  const prefix = `${config.pluginId}/`;
  const listeners = new Set<Listener>();
  const statusListeners = new Set<(status: SocketStatus) => void>();
  const states = new Map<string, unknown>();
  const cursor = new OverlayResumeCursor();
  let status: SocketStatus = 'idle';
  const dot = config.debug ? connectionDot(document) : undefined;

  const deliver = (delivery: OverlayDelivery) => {
    // Channels arrive as `<pluginId>/<channel>`; the widget knows them by the plugin's names.
    const named = { ...delivery, channel: delivery.channel.startsWith(prefix) ? delivery.channel.slice(prefix.length) : delivery.channel };
    if (named.kind === 'state') states.set(named.channel, named.data);
    for (const listener of listeners) {
      try {
        listener(named);
      } catch (error) {
        // One frame the widget cannot show must not stop the next.
        console.error('widget: a frame could not be shown', error);
      }
    }
  };
  const socket = new ReconnectingSocket({
    url: () => sameHostSocketUrl(config.socket, window.location),
    onOpen: () => cursor.opened(),
    onFrame: (frame, send) => {
      const step = cursor.receive(frame);
      if (step.reply) send(step.reply);
      if (step.delivery) deliver(step.delivery);
    },
    onStatus: (next) => {
      status = next;
      if (dot) dot.dataset.status = next;
      for (const listener of statusListeners) listener(next);
    },
  });
  socket.start();

  const listen = (listener: Listener) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };
  return {
    root,
    options: config.options as Options,
    ignoredOptions: config.ignored,
    pluginId: config.pluginId,
    widgetId: config.widgetId,
    size: config.size,
    debug: config.debug,
    get status() {
      return status;
    },
    onMessage: (channel, listener) =>
      listen((delivery) => {
        if (delivery.kind === 'message' && delivery.channel === channel) listener(delivery.data as Messages[typeof channel], { eventId: delivery.eventId, at: delivery.at });
      }),
    onState: (channel, listener) => {
      if (states.has(channel)) listener(states.get(channel) as Messages[typeof channel] | null);
      return listen((delivery) => {
        if (delivery.kind === 'state' && delivery.channel === channel) listener(delivery.data as Messages[typeof channel] | null);
      });
    },
    state: (channel) => states.get(channel) as Messages[typeof channel] | null | undefined,
    onStatus: (listener) => {
      statusListeners.add(listener);
      return () => void statusListeners.delete(listener);
    },
    close: () => socket.stop(),
  };
}

/** The `debug=1` dot in a corner: green when connected, amber while connecting, red while waiting to retry. */
function connectionDot(document: Document): HTMLElement {
  const dot = document.createElement('div');
  dot.className = 'ttlp-connection-dot';
  dot.dataset.status = 'idle';
  dot.title = 'connection to the ttlp host';
  const style = document.createElement('style');
  style.textContent = `.ttlp-connection-dot{position:fixed;top:8px;right:8px;width:12px;height:12px;border-radius:50%;background:#888;z-index:2147483647;box-shadow:0 0 0 2px #0008}
.ttlp-connection-dot[data-status=open]{background:#2ecc71}.ttlp-connection-dot[data-status=connecting]{background:#f1c40f}.ttlp-connection-dot[data-status=waiting]{background:#e74c3c}`;
  document.head.append(style);
  document.body.append(dot);
  return dot;
}
