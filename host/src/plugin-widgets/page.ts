/**
 * A plugin widget's page, and the policy it is served with. The page is third-party code in the
 * streamer's browser and OBS: it runs sandboxed in an opaque origin (`sandbox allow-scripts`,
 * without `allow-same-origin`), so it has no cookies, no storage and no same-origin access to the
 * host; it may load only its own script and connect only to its own socket. Pictures, sounds,
 * fonts and styles may come from anywhere over https (avatars and gift images are on TikTok's CDN),
 * pictures and sounds from the host too, and sounds over http.
 */
import { WIDGET_CONFIG_ELEMENT_ID, WIDGET_ROOT_ELEMENT_ID, type WidgetPageConfig } from '@ttlp/sdk/host-contract';
import type { CatalogWidget } from './catalog.ts';

/** The paths of a widget's page, script and socket. */
export function widgetPaths(widget: Pick<CatalogWidget, 'pluginId' | 'widget'>) {
  const base = `${encodeURIComponent(widget.pluginId)}/${encodeURIComponent(widget.widget.id)}`;
  return { page: `/overlay/${base}`, script: `/overlay/${base}/widget.js`, socket: `/ws/overlay/${base}` };
}

/** The page's Content-Security-Policy; `origin` is the host as the browser reached it (`http://host:port`). */
export function widgetPolicy(widget: CatalogWidget, origin: string): string {
  const paths = widgetPaths(widget);
  const socketOrigin = origin.replace(/^http/, 'ws');
  return [
    'sandbox allow-scripts',
    "default-src 'none'",
    `script-src ${origin}${paths.script}`,
    "style-src 'unsafe-inline' https: data:",
    `img-src ${origin} https: data: blob:`,
    // Alert sounds may sit on the streamer's own machine or network.
    `media-src ${origin} https: http: data: blob:`,
    'font-src https: data:',
    `connect-src ${socketOrigin}${paths.socket}`,
    "frame-ancestors 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** JSON safe inside a `<script>` element: no `</script>` or `<!--` can close or change it. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** The page: a transparent root to draw into, the configuration, the widget's script. */
export function widgetPage(widget: CatalogWidget, config: WidgetPageConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(widget.widget.displayName)} · ttlp</title>
<style>html,body{margin:0;padding:0;width:100%;height:100%;overflow:hidden;background:transparent;-webkit-font-smoothing:antialiased}#${WIDGET_ROOT_ELEMENT_ID}{position:relative;width:100%;height:100%}</style>
<script type="application/json" id="${WIDGET_CONFIG_ELEMENT_ID}">${scriptJson(config)}</script>
</head>
<body>
<div id="${WIDGET_ROOT_ELEMENT_ID}"></div>
<script src="${widgetPaths(widget).script}"></script>
</body>
</html>
`;
}

/**
 * The page of a widget whose build failed: blank in OBS (a stream never shows an error), the
 * error on screen with `debug=1`.
 */
export function brokenWidgetPage(widget: CatalogWidget, error: string, debug: boolean): string {
  const shown = debug ? `<pre style="margin:16px;padding:12px;background:#200;color:#fcc;font:14px monospace;white-space:pre-wrap">${escapeHtml(`The widget ${widget.name} does not build:\n${error}`)}</pre>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${escapeHtml(widget.widget.displayName)} · ttlp</title>
<style>html,body{margin:0;background:transparent}</style></head>
<body>${shown}</body></html>
`;
}

/** The waiting page loads nothing and runs nothing. */
export const WAITING_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

/** How often the page of a widget nobody declares asks again, s. */
export const WAITING_PAGE_RETRY_S = 10;

/**
 * The page of a widget that the host does not know (its plugin is off, or not installed): blank
 * in OBS, reloading itself until the widget is there; with `debug=1` it says what it waits for.
 */
export function waitingPage(name: string, debug: boolean): string {
  const shown = debug
    ? `<p style="margin:16px;padding:12px;background:#222;color:#eee;font:16px system-ui,sans-serif">${escapeHtml(`No running plugin has the widget ${name}: enable its plugin in the settings page. This page checks again every ${WAITING_PAGE_RETRY_S} s.`)}</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${WAITING_PAGE_RETRY_S}"><link rel="icon" href="data:,"><title>${escapeHtml(name)} · ttlp</title>
<style>html,body{margin:0;background:transparent}</style></head>
<body>${shown}</body></html>
`;
}
