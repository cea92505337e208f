/**
 * What a plugin is written against. A plugin's entry default-exports `definePlugin({ setup })`;
 * the host calls `setup` once in the plugin's own isolate with a `PluginContext`, and the handlers
 * registered there receive the events the plugin subscribed to.
 */
import type { EventType } from './contract/constants.ts';
import type { UnifiedEvent, UnifiedEventOf } from './contract/unified-event.ts';

export type Handler<Event> = (event: Event) => void | Promise<void>;

/** A JSON value: what overlay messages, kv values and config are made of. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  headers?: Record<string, string>;
  body?: string;
  /**
   * Signs the request host-side: the host sets `header` to `sha256=<hex HMAC-SHA256 of the body
   * with secret>` (the body is signed as sent; an empty body when there is none).
   */
  sign?: { header: string; secret: string };
}

export interface HttpResponse {
  status: number;
  ok: boolean;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON; rejects when it is not JSON. */
  json<T = Json>(): T;
}

export interface PluginLog {
  debug(message: string, fields?: Record<string, Json>): void;
  info(message: string, fields?: Record<string, Json>): void;
  warn(message: string, fields?: Record<string, Json>): void;
  error(message: string, fields?: Record<string, Json>): void;
}

export interface PluginContext<Config = Record<string, Json>> {
  /** The manifest id of this plugin. */
  readonly pluginId: string;
  /** The streamer's settings for this plugin, validated against its config schema, defaults filled in. */
  readonly config: Readonly<Config>;
  /** Handles one event type (the event narrowed to it), or every subscribed type with `'*'`. */
  on<E extends EventType>(eventType: E, handler: Handler<UnifiedEventOf<E>>): void;
  on(eventType: '*', handler: Handler<UnifiedEvent>): void;
  overlay: {
    /** Sends a message to the overlays listening on `channel` (one the manifest declares). */
    send(channel: string, data: Json): Promise<void>;
    /** Replaces the channel's current state, which a widget receives when it connects. */
    setState(channel: string, state: Json): Promise<void>;
  };
  /** This plugin's persistent key-value store (needs the `kv` permission). */
  kv: {
    get<T extends Json = Json>(key: string): Promise<T | undefined>;
    set(key: string, value: Json): Promise<void>;
    delete(key: string): Promise<void>;
  };
  /** HTTP to the URLs the manifest requests and the streamer granted. */
  http: {
    fetch(url: string, request?: HttpRequest): Promise<HttpResponse>;
  };
  log: PluginLog;
  setTimeout(callback: () => void | Promise<void>, ms: number): number;
  setInterval(callback: () => void | Promise<void>, ms: number): number;
  clearTimeout(id: number): void;
  clearInterval(id: number): void;
}

export interface PluginDefinition<Config = Record<string, Json>> {
  setup(ctx: PluginContext<Config>): void | Promise<void>;
}

/** Declares a plugin; the default export of its entry. */
export function definePlugin<Config = Record<string, Json>>(definition: PluginDefinition<Config>): PluginDefinition<Config> {
  return definition;
}
