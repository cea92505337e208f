/**
 * `@ttlp/sdk/widget/testing`: a widget page without a host, for a widget's own tests in a DOM
 * (vitest's `happy-dom` or `jsdom` environment). It writes the page the host would serve and
 * stands in for the widget's socket: the widget connects, resumes, and receives what the test
 * sends — messages a plugin test recorded with `createTestHost`, say — in the host's frames.
 *
 *   const page = await openWidgetPage({ pluginId: 'shoutout', options: { color: '#ffffff' } });
 *   await import('../src/widget.ts');
 *   await page.send('main', { text: 'Thanks, Ada!' });
 */
import { WIDGET_CONFIG_ELEMENT_ID, WIDGET_ROOT_ELEMENT_ID, type WidgetPageConfig } from '../host-contract/widget-page.ts';

export interface WidgetPageOptions {
  pluginId: string;
  widgetId?: string;
  /** The plugin channels the widget shows; default `['main']`. */
  channels?: string[];
  /** The widget's options as the host would pass them (validated, defaults filled in). */
  options?: Record<string, unknown>;
  size?: { width: number; height: number };
  /** Lay the page out by the look options in `options`, as for a widget whose manifest declares `look`. */
  look?: boolean;
  /** Each channel's state when the widget connects. */
  states?: Record<string, unknown>;
}

export interface WidgetTestPage {
  /** A message on the plugin's `channel`, as `ctx.overlay.send` sends it; resolves once delivered. */
  send(channel: string, data: unknown, eventId?: string): Promise<void>;
  /** The channel's new state, as `ctx.overlay.setState` sets it; resolves once delivered. */
  setState(channel: string, state: unknown): Promise<void>;
  /** Resolves once the widget has connected and resumed. */
  connected(): Promise<void>;
  /** Removes the page and the stand-in socket. */
  close(): void;
}

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Writes the widget page into `document` and puts a stand-in for the host's socket in place of `WebSocket`. */
export async function openWidgetPage(page: WidgetPageOptions): Promise<WidgetTestPage> {
  const widgetId = page.widgetId ?? 'main';
  const channels = page.channels ?? ['main'];
  const keyOf = (channel: string) => `${page.pluginId}/${channel}`;
  const config: WidgetPageConfig = {
    pluginId: page.pluginId,
    widgetId,
    socket: `/ws/overlay/${page.pluginId}/${widgetId}?token=test`,
    options: page.options ?? {},
    ignored: [],
    look: page.look ?? false,
    debug: false,
    size: page.size ?? { width: 1920, height: 1080 },
  };
  const script = document.createElement('script');
  script.type = 'application/json';
  script.id = WIDGET_CONFIG_ELEMENT_ID;
  script.textContent = JSON.stringify(config);
  const root = document.createElement('div');
  root.id = WIDGET_ROOT_ELEMENT_ID;
  document.head.append(script);
  document.body.append(root);

  const seqs = new Map(channels.map((channel) => [keyOf(channel), 0]));
  let socket: StandInSocket | undefined;
  let resumed: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resumed = resolve));
  const original = globalThis.WebSocket;

  class StandInSocket {
    readyState = 0;
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: string }) => void) | null = null;
    onclose: ((event: { code: number; reason: string }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;

    constructor(readonly url: string) {
      socket = this;
      setTimeout(() => {
        this.readyState = 1;
        this.onopen?.({});
        this.frame({ type: 'hello', epoch: 'test', widget: `${page.pluginId}/${widgetId}`, channels: [...seqs.keys()] });
      }, 0);
    }

    frame(frame: Record<string, unknown>): void {
      this.onmessage?.({ data: JSON.stringify(frame) });
    }

    send(text: string): void {
      const frame = JSON.parse(text) as { type?: string };
      if (frame.type !== 'resume') return;
      for (const channel of channels) this.frame({ type: 'reset', channel: keyOf(channel), seq: 0, state: page.states?.[channel] ?? null });
      resumed();
    }

    close(): void {
      this.readyState = 3;
    }
  }
  globalThis.WebSocket = StandInSocket as unknown as typeof WebSocket;

  const deliver = async (type: 'message' | 'state', channel: string, data: unknown, eventId?: string) => {
    await ready;
    const key = keyOf(channel);
    if (!seqs.has(key)) throw new Error(`the widget page shows no channel "${channel}" (channels: ${channels.join(', ')})`);
    const seq = seqs.get(key)! + 1;
    seqs.set(key, seq);
    socket!.frame({ type, channel: key, seq, pluginId: page.pluginId, data, ...(eventId ? { eventId } : {}), at: new Date().toISOString() });
    await nextTurn();
  };
  return {
    send: (channel, data, eventId) => deliver('message', channel, data, eventId),
    setState: (channel, state) => deliver('state', channel, state),
    connected: () => ready,
    close: () => {
      globalThis.WebSocket = original;
      script.remove();
      root.remove();
    },
  };
}
