/**
 * The widgets the host itself ships, declared as a plugin declares its own (D-047): the counters
 * of `host/counters`. Their sources are browser code in `host/widgets/`, built and served by the
 * plugin-widget mechanism like any plugin's.
 */
import { fileURLToPath } from 'node:url';
import type { PluginWidget } from '@ttlp/sdk/manifest';
import type { HostWidgets } from '../plugin-widgets/catalog.ts';
import { COUNTERS_CHANNEL_NAME } from './protocol.ts';

const COUNTERS_WIDGET: PluginWidget = {
  id: 'counters',
  displayName: 'Counters',
  entry: 'counters/CountersWidget.svelte',
  channels: [COUNTERS_CHANNEL_NAME],
  look: { position: 'bottom-right', fontSize: 30 },
  options: {
    type: 'object',
    properties: {
      show: {
        type: 'string',
        title: 'Counters shown, in order (comma-separated: likes, viewers, follows, shares, coins)',
        pattern: '^\\s*(likes|viewers|follows|shares|coins)\\s*(,\\s*(likes|viewers|follows|shares|coins)\\s*)*$',
        default: 'likes,viewers',
      },
      labels: { type: 'boolean', title: 'Labels', default: true },
      compact: { type: 'boolean', title: 'Compact numbers (12.3K)', default: false },
      layout: { type: 'string', title: 'Layout', enum: ['row', 'column'], default: 'row' },
    },
  },
};

export const HOST_WIDGETS: HostWidgets = {
  dir: fileURLToPath(new URL('../../widgets', import.meta.url)),
  widgets: [COUNTERS_WIDGET],
};
