/** A plugin's widgets as the host finds, builds and configures them (the browser side: overlays/test/plugin-widgets.test.ts). */
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateManifest, type PluginManifest, type PluginWidget } from '@ttlp/sdk/manifest';
import { writePlugin } from '../../../sdk/test/support/plugin-dir.ts';
import { buildWidget } from './build.ts';
import { WidgetCatalog } from './catalog.ts';
import { readWidgetOptions } from './options.ts';

const PLUGIN = `import { definePlugin } from '@ttlp/sdk'; export default definePlugin({ setup() {} });`;
const TS_WIDGET = `import { openWidget } from '@ttlp/sdk/widget';
const widget = openWidget<{ main: { text: string } }>();
widget.onMessage('main', (data) => { widget.root.textContent = data.text + ' (shout-marker)'; });
`;
const SVELTE_WIDGET = `<script lang="ts">
  let { widget } = $props();
  let text = $state('');
  widget.onMessage('main', (data: { text: string }) => (text = data.text));
</script>
<p class="svelte-marker">{text}</p>
<style>p { color: red; }</style>
`;

function pluginWith(widgets: Array<Record<string, unknown>>, files: Record<string, string>): { dir: string; manifest: PluginManifest } {
  const dir = writePlugin(PLUGIN, { id: 'shout', widgets }, files);
  const checked = validateManifest(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).ttlp);
  if (!checked.ok) throw new Error(checked.problems.join('\n'));
  return { dir, manifest: checked.manifest };
}

describe('a widget build', () => {
  it('bundles a TS module with the host’s widget SDK into one classic script', async () => {
    const { dir } = pluginWith([], { 'widget.ts': TS_WIDGET });
    const built = await buildWidget(dir, 'widget.ts');
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(built.code).toContain('shout-marker');
    // The SDK came along: its socket protocol and page configuration.
    expect(built.code).toContain('ttlp-widget');
    expect(built.code).not.toMatch(/^\s*(import|export)\s/m);
    expect([...built.inputs.keys()]).toEqual([path.join(dir, 'widget.ts')]);
  });

  it('compiles a Svelte component and mounts it with the open widget as its prop', async () => {
    const { dir } = pluginWith([], { 'Widget.svelte': SVELTE_WIDGET });
    const built = await buildWidget(dir, 'Widget.svelte');
    expect(built.ok ? 'built' : built.error).toBe('built');
    if (!built.ok) return;
    expect(built.code).toContain('svelte-marker');
    expect(built.code).toContain('color:red');
  });

  it('says where an entry does not build, by file and line', async () => {
    const { dir } = pluginWith([], { 'widget.ts': `import { openWidget } from '@ttlp/sdk/widget';\nconst x = ;\n` });
    const built = await buildWidget(dir, 'widget.ts');
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.error).toMatch(/^widget\.ts:2:\d+: /);
  });
});

describe('the widget catalog', () => {
  it('knows the widgets of running plugins only, by name, with their channels and size', () => {
    const { dir, manifest } = pluginWith([{ id: 'main', displayName: 'Shout', entry: 'widget.ts', channels: ['main'], size: { width: 1080, height: 1920 } }], { 'widget.ts': TS_WIDGET });
    const loaded = new Map([['shout', { dir, manifest }]]);
    const catalog = new WidgetCatalog({ loaded });
    expect(catalog.find('shout', 'main')).toMatchObject({ name: 'shout/main', keys: ['shout/main'], size: { width: 1080, height: 1920 } });
    expect(catalog.find('shout', 'other')).toBeUndefined();
    expect(catalog.list().map((widget) => widget.name)).toEqual(['shout/main']);
    loaded.delete('shout');
    expect(catalog.find('shout', 'main')).toBeUndefined();
    expect(catalog.list()).toEqual([]);
  });

  it('keeps a build until one of its files changes, then builds again', async () => {
    const { dir, manifest } = pluginWith([{ id: 'main', displayName: 'Shout', entry: 'widget.ts', channels: ['main'] }], { 'widget.ts': TS_WIDGET });
    const catalog = new WidgetCatalog({ loaded: new Map([['shout', { dir, manifest }]]) });
    const widget = catalog.find('shout', 'main')!;
    const first = await catalog.build(widget);
    expect(await catalog.build(widget)).toBe(first);
    writeFileSync(path.join(dir, 'widget.ts'), TS_WIDGET.replace('shout-marker', 'edited-marker'));
    // A save within the same clock tick as the build still counts: the test moves the time on.
    const later = new Date(Date.now() + 5_000);
    utimesSync(path.join(dir, 'widget.ts'), later, later);
    const second = await catalog.build(widget);
    expect(second).not.toBe(first);
    expect(second.ok && second.code).toContain('edited-marker');
  });
});

describe('widget options from the URL', () => {
  const widget: PluginWidget = {
    id: 'main',
    displayName: 'Shout',
    entry: 'widget.ts',
    channels: ['main'],
    options: {
      type: 'object',
      properties: {
        color: { type: 'string', pattern: '^#[0-9a-f]{6}$', default: '#ffffff' },
        size: { type: 'integer', minimum: 8, maximum: 200, default: 64 },
        shadow: { type: 'boolean', default: true },
      },
    },
  };
  const read = (query: string) => readWidgetOptions({ optionsSchema: widget.options as Record<string, unknown> }, new URLSearchParams(query));

  it('are coerced to their types, the defaults filled in; token and debug are not options', () => {
    expect(read('token=t&debug=1&size=48&shadow=false')).toEqual({ options: { color: '#ffffff', size: 48, shadow: false }, ignored: [] });
  });

  it('that break the schema are left out, with why; the widget gets the defaults for them', () => {
    expect(read('size=1000&color=red&font=serif')).toEqual({
      options: { color: '#ffffff', size: 64, shadow: true },
      ignored: [
        { option: 'size', reason: '/size must be <= 200' },
        { option: 'color', reason: expect.stringMatching(/^\/color must match pattern/) },
        { option: 'font', reason: 'the widget has no such option' },
      ],
    });
  });

  it('of a widget without an options schema are all ignored', () => {
    expect(readWidgetOptions({ optionsSchema: undefined }, new URLSearchParams('color=%23000000&token=t'))).toEqual({
      options: {},
      ignored: [{ option: 'color', reason: 'the widget has no such option' }],
    });
  });
});
