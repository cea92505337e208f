/**
 * What the host writes into a plugin widget's page for the widget SDK to read: where its socket
 * is, and its options as the host validated them against the widget's schema. It travels as JSON
 * in `<script type="application/json" id="ttlp-widget">`, which no policy keeps a page from reading.
 */

/** The id of the element holding the page's configuration. */
export const WIDGET_CONFIG_ELEMENT_ID = 'ttlp-widget';
/** The id of the element the widget draws into: the whole page, transparent. */
export const WIDGET_ROOT_ELEMENT_ID = 'widget';

/** A URL option the host left out because it broke the widget's options schema. */
export interface IgnoredOption {
  option: string;
  reason: string;
}

export interface WidgetPageConfig {
  pluginId: string;
  widgetId: string;
  /** Path and query of the widget's socket, its token included. */
  socket: string;
  /** The URL's options, validated, with the schema's defaults filled in. */
  options: Record<string, unknown>;
  ignored: IgnoredOption[];
  /** The widget declares a look: its page is laid out by the look options (widget-look.ts). */
  look: boolean;
  /** `debug=1` in the URL: show the connection dot. */
  debug: boolean;
  /** The size the widget is made for (its OBS browser source). */
  size: { width: number; height: number };
}
