/**
 * The widgets of the running plugins, as their manifests declare them, and each one's build: made
 * the first time the widget is asked for, made again when one of its files changed (so `ttlp start
 * --dev` shows an edit at the next page load), and kept for as long as the plugin runs.
 */
import { channelKey } from '@ttlp/sdk/host-contract';
import { DEFAULT_WIDGET_SIZE, type PluginManifest, type PluginWidget } from '@ttlp/sdk/manifest';
import { buildWidget, outdated, type WidgetBuild } from './build.ts';

/** What the catalog needs to know of the plugins: the running ones, with their folders. */
export interface RunningPlugins {
  readonly loaded: ReadonlyMap<string, { dir: string; manifest: PluginManifest }>;
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
}

/** A plugin widget's name: `<pluginId>/<widgetId>`. */
export const pluginWidgetName = (pluginId: string, widgetId: string) => `${pluginId}/${widgetId}`;

export class WidgetCatalog {
  /** Builds by widget name, for the folder and entry they were made from. */
  private readonly builds = new Map<string, { source: string; build: Promise<WidgetBuild> }>();

  constructor(private readonly plugins: RunningPlugins | undefined) {}

  /** The widget, if its plugin runs and declares it. */
  find(pluginId: string, widgetId: string): CatalogWidget | undefined {
    const plugin = this.plugins?.loaded.get(pluginId);
    const widget = plugin?.manifest.widgets?.find((candidate) => candidate.id === widgetId);
    return plugin && widget ? describe(pluginId, plugin.dir, widget) : undefined;
  }

  /** Every widget of every running plugin, by plugin id then in manifest order. */
  list(): CatalogWidget[] {
    const plugins = [...(this.plugins?.loaded.entries() ?? [])].sort(([a], [b]) => a.localeCompare(b));
    return plugins.flatMap(([pluginId, plugin]) => (plugin.manifest.widgets ?? []).map((widget) => describe(pluginId, plugin.dir, widget)));
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
  };
}
