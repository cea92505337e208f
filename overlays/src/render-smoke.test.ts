// @vitest-environment node
import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import alertsPackage from '../../plugins/alerts/package.json';
import goalsPackage from '../../plugins/goals/package.json';
import rulesPackage from '../../plugins/rules/package.json';
import webhookPackage from '../../plugins/webhook/package.json';
import type { PluginView } from '@ttlp/sdk/host-contract';
import type { Widget } from '@ttlp/sdk/widget';
import GoalsWidget from '../../plugins/goals/widget/GoalsWidget.svelte';
import LeaderboardWidget from '../../plugins/leaderboard/widget/LeaderboardWidget.svelte';
import CountersWidget from '../../host/widgets/counters/CountersWidget.svelte';
import PermissionDialog from './settings/components/PermissionDialog.svelte';
import PluginCard from './settings/components/PluginCard.svelte';
import ConfigForm from './settings/components/ConfigForm.svelte';
import SchemaField from './settings/components/SchemaField.svelte';
import { prepareDraft, type JsonSchema } from './lib/json-schema.ts';

const XSS = '<img src=x onerror=alert(1)>';
const QUOTAS = {
  memoryMb: 64,
  cpuMsPerSecond: 500,
  overlayPerRun: 50,
  overlayPerSecond: 50,
  kvKeys: 5000,
  kvBytes: 8 * 1024 * 1024,
  logLinesPerSecond: 20,
  logBytesPerSecond: 32 * 1024,
  httpPerMinute: 1200,
  timers: 64,
};
/** A widget whose one channel has `state`, with `options` from its URL. */
const widgetWith = <Options extends object>(state: unknown, options: Options) =>
  ({ options, state: () => state, onState: () => () => {}, onMessage: () => () => {} }) as unknown as Widget<never, Options>;

describe('server rendering smoke test', () => {
  it('renders the state widgets with viewer text as text', () => {
    const leaderboard = render(LeaderboardWidget, {
      props: {
        widget: widgetWith({ gifters: [{ userId: '1', uniqueId: 'a', displayName: XSS, avatarUrl: null, coins: 5 }], likers: [] }, { max: 5, show: 'gifters,likers', avatars: false, titles: true }),
      },
    }).body;
    expect(leaderboard).toContain('&lt;img src=x onerror=alert(1)>');
    expect(leaderboard).not.toContain(XSS);
    expect(leaderboard).toContain('Top gifters');
    expect(leaderboard).not.toContain('Top likers');

    const goals = render(GoalsWidget, {
      props: {
        widget: widgetWith({ goals: [{ id: 'likes', kind: 'likes', title: XSS, current: 412, target: 1000, percent: 41, reached: false }] }, {}),
      },
    }).body;
    expect(goals).toContain('width: 41%');
    expect(goals).not.toContain(XSS);

    const counters = render(CountersWidget, {
      props: {
        widget: widgetWith({ sessionId: 's', likes: 1234, viewers: null, follows: 0, shares: 0, coins: 0 }, { show: 'likes,viewers', labels: true, compact: false, layout: 'row' as const }),
      },
    }).body;
    expect(counters).toContain('data-counter="likes"');
    expect(counters).not.toContain('data-counter="viewers"');
  });

  it('renders plugin cards and config fields for every first-party schema', () => {
    for (const pkg of [alertsPackage, goalsPackage, rulesPackage, webhookPackage]) {
      const plugin: PluginView = {
        id: pkg.ttlp.id,
        displayName: pkg.ttlp.displayName,
        version: pkg.ttlp.version,
        description: XSS,
        enabled: false,
        running: false,
        state: 'stopped',
        status: 'installed',
        dir: `plugins/${pkg.ttlp.id}`,
        requestedPermissions: ['events:GIFT', 'kv'],
        grantedPermissions: [],
        configSchema: pkg.ttlp.config,
        config: {},
        overlayChannels: [],
        faultCount: 2,
        lastError: 'boom',
        lag: 1500,
        quotas: QUOTAS,
      };
      const card = render(PluginCard, { props: { plugin, onupdate: () => {} } }).body;
      expect(card).toContain(`data-testid="plugin-toggle-${plugin.id}"`);
      expect(card).toMatch(/1,500 events behind/);
      expect(card).toContain('receive GIFT events');
      expect(card).not.toContain(XSS);
      expect(render(ConfigForm, { props: { plugin, onsaved: () => {} } }).body).toContain(`config-save-${plugin.id}`);
      const samples: Record<string, unknown> = {
        rules: { rules: [{ id: 'r', name: 'R', events: ['GIFT'], condition: {}, actions: [{ type: 'log', level: 'info', template: XSS }] }] },
        webhook: { url: 'https://example.com/x', events: ['GIFT'] },
      };
      const config = prepareDraft(pkg.ttlp.config as JsonSchema, samples[plugin.id] ?? {});
      for (const [name, schema] of Object.entries(pkg.ttlp.config.properties)) {
        const field = render(SchemaField, {
          props: { schema, parent: config, key: name, pointer: `/${name}`, label: name, problems: {}, onjsonerror: () => {}, idBase: `cfg-${plugin.id}` },
        }).body;
        expect(field).toContain(name);
        expect(field).not.toContain(XSS);
      }
    }
  });

  it('lists the limits a plugin runs within under the permissions it asks for', () => {
    const dialog = render(PermissionDialog, {
      props: { pluginName: 'Alerts', permissions: ['kv'], granted: [], quotas: QUOTAS, busy: false, onconfirm: () => {}, oncancel: () => {} },
    }).body;
    expect(dialog.indexOf('store its own data')).toBeLessThan(dialog.indexOf('data-testid="quota-list"'));
    for (const line of ['Up to 64 MB of memory', '50 overlay messages per event, 50 per second', '5,000 stored keys, 8 MB in all', '20 log lines (32 KB) per second', '1,200 web requests per minute', '64 timers at once'])
      expect(dialog).toContain(`>${line}</li>`);
  });
});
