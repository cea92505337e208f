/**
 * The widgets of the running plugins, as their manifests declare them, and each one's build: made
 * the first time the widget is asked for, made again when one of its files changed (so `ttlp start
 * --dev` shows an edit at the next page load), and kept for as long as the plugin runs.
 */
import { channelKey, HOST_PUBLISHER } from '@ttlp/sdk/host-contract';
import { DEFAULT_WIDGET_SIZE, lookOptionSchemas, type PluginManifest, type PluginWidget } from '@ttlp/sdk/manifest';
import { buildWidget, outdated, type WidgetBuild } from './build.ts';

/** What the catalog needs to know of the plugins: the running ones, with their folders. */
export interface RunningPlugins {
  readonly loaded: ReadonlyMap<string, { dir: string; manifest: PluginManifest }>;
}

/** Widgets the host itself ships (their channels are the host's, `host/<channel>`), from the folder `dir`. */
export interface HostWidgets {
  dir: string;
  widgets: readonly PluginWidget[];
}

export interface CatalogWidget {
  pluginId: string;
  widget: PluginWidget;
  dir: string;
  /** `<pluginId>/<widgetId>`: its name in tokens, sockets and the hub. */
  name: string;
  /** The channels it shows, as the hub names them (`<pluginId>/<channel>`). */
  keys: string[];
  size: { width: number; height: number };
  /** Its URL options' JSON Schema: the manifest's, with the look options when it declares a look. */
  optionsSchema: Record<string, unknown> | undefined;
}

/** A plugin widget's name: `<pluginId>/<widgetId>`. */
export const pluginWidgetName = (pluginId: string, widgetId: string) => `${pluginId}/${widgetId}`;

export class WidgetCatalog {
  /** Builds by widget name, for the folder and entry they were made from. */
  private readonly builds = new Map<string, { source: string; build: Promise<WidgetBuild> }>();

  constructor(
    private readonly plugins: RunningPlugins | undefined,
    private readonly host: HostWidgets = { dir: '', widgets: [] },
  ) {}

  /** The widget, if the host or a running plugin declares it. */
  find(pluginId: string, widgetId: string): CatalogWidget | undefined {
    const plugin = pluginId === HOST_PUBLISHER ? this.host : this.plugins?.loaded.get(pluginId);
    const widgets = plugin && ('widgets' in plugin ? plugin.widgets : plugin.manifest.widgets);
    const widget = widgets?.find((candidate) => candidate.id === widgetId);
    return plugin && widget ? describe(pluginId, plugin.dir, widget) : undefined;
  }

  /**
   * The widget a one-segment overlay URL (`/overlay/<name>`, as first-party widgets had before
   * plugins declared them) means: the plugin `<name>`'s widget `<name>`, else the host's widget `<name>`.
   */
  findByShortName(name: string): CatalogWidget | undefined {
    return this.find(name, name) ?? this.find(HOST_PUBLISHER, name);
  }

  /** The host's widgets, then every widget of every running plugin, by plugin id then in manifest order. */
  list(): CatalogWidget[] {
    const plugins = [...(this.plugins?.loaded.entries() ?? [])].sort(([a], [b]) => a.localeCompare(b));
    return [
      ...this.host.widgets.map((widget) => describe(HOST_PUBLISHER, this.host.dir, widget)),
      ...plugins.flatMap(([pluginId, plugin]) => (plugin.manifest.widgets ?? []).map((widget) => describe(pluginId, plugin.dir, widget))),
    ];
  }

  /** The widget's current build: the last one while none of its files changed, else a new one. */
  async build(widget: CatalogWidget): Promise<WidgetBuild> {
    const source = `${widget.dir}\n${widget.widget.entry}`;
    const cached = this.builds.get(widget.name);
    if (cached && cached.source === source && !(await outdated(await cached.build))) return cached.build;
    // Callers arriving while it builds share the build.
    const current = this.builds.get(widget.name);
    if (current && current !== cached) return current.build;
    const build = buildWidget(widget.dir, widget.widget.entry);
    this.builds.set(widget.name, { source, build });
    return build;
  }
}

function describe(pluginId: string, dir: string, widget: PluginWidget): CatalogWidget {
  return {
    pluginId,
    widget,
    dir,
    name: pluginWidgetName(pluginId, widget.id),
    keys: widget.channels.map((channel) => channelKey(pluginId, channel)),
    size: widget.size ?? { ...DEFAULT_WIDGET_SIZE },
    optionsSchema: optionsSchemaOf(widget),
  };
}

/** One schema object per manifest widget, so that validators compiled for it are kept. */
const optionsSchemas = new WeakMap<PluginWidget, Record<string, unknown> | undefined>();

function optionsSchemaOf(widget: PluginWidget): Record<string, unknown> | undefined {
  if (optionsSchemas.has(widget)) return optionsSchemas.get(widget);
  const own = widget.options as { properties?: Record<string, unknown> } | undefined;
  const schema =
    widget.look === undefined
      ? own
      : { type: 'object', ...own, properties: { ...own?.properties, ...lookOptionSchemas(widget.look) } };
  optionsSchemas.set(widget, schema);
  return schema;
}
