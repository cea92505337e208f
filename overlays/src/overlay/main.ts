import { mount } from 'svelte';
import type { OverlayWidget } from '@ttlp/sdk';
import './overlay.css';
import { OverlayConnection } from './overlay-connection.svelte.ts';
import OverlayPage from './OverlayPage.svelte';
import { readLookOptions, readWidgetSetup, widgetFromLocation, type LookOptions } from './widget-options.ts';

// Each widget's look when the URL does not say otherwise; the alert panel is fully opaque.
const LOOK_DEFAULTS: Record<OverlayWidget, Partial<LookOptions>> = {
  alerts: { position: 'top', fontSize: 40, bg: '#17151f', accent: '#fe2c55' },
  chat: { position: 'bottom-left', fontSize: 26 },
  goals: { position: 'top-left', fontSize: 26 },
  leaderboard: { position: 'top-right', fontSize: 24 },
  counters: { position: 'bottom-right', fontSize: 30 },
};

const widget = widgetFromLocation(window.location);
const target = document.getElementById('app');
if (widget === null || target === null) {
  // An unknown widget shows nothing at all: an OBS source must never display an error.
  console.warn(`overlay: no widget at ${window.location.pathname}`);
} else {
  const params = new URLSearchParams(window.location.search);
  const token = params.get('token');
  if (!token) console.warn('overlay: the URL has no token; copy the widget URL from the settings page');
  const connection = new OverlayConnection({ widget, token: token || null });
  document.documentElement.dataset.widget = widget;
  mount(OverlayPage, {
    target,
    props: {
      setup: readWidgetSetup(widget, params, window.location.href),
      connection,
      look: readLookOptions(params, LOOK_DEFAULTS[widget]),
    },
  });
}
