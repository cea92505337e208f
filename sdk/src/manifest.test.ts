import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { validateManifest } from './manifest.ts';

const manifest = (extra: Record<string, unknown> = {}) => ({
  id: 'shoutout',
  displayName: 'Shoutout',
  version: '0.1.0',
  entry: 'src/index.ts',
  permissions: { events: ['FOLLOW'] },
  overlayChannels: ['main', 'side'],
  ...extra,
});
const widget = (extra: Record<string, unknown> = {}) => ({ id: 'main', displayName: 'Shoutout', entry: 'src/widget.ts', channels: ['main'], ...extra });
const problemsOf = (value: unknown) => {
  const result = validateManifest(value);
  return result.ok ? [] : result.problems;
};

describe('a manifest with widgets', () => {
  it('is valid with a widget of its own channels, a size and an options schema', () => {
    const result = validateManifest(
      manifest({
        widgets: [
          widget({ size: { width: 1080, height: 1920 }, options: { type: 'object', properties: { color: { type: 'string', default: '#fff' } } } }),
          widget({ id: 'side', channels: ['main', 'side'] }),
        ],
      }),
    );
    expect(result.ok).toBe(true);
  });

  it('lists every problem at once: a channel it does not declare, a repeated id, an entry outside its folder, options that are not an object schema', () => {
    expect(
      problemsOf(
        manifest({
          widgets: [
            widget({ channels: ['main', 'elsewhere'] }),
            widget({ entry: '../outside.ts' }),
            widget({ id: 'other', options: { type: 'string' } }),
            widget({ id: 'broken', options: { type: 'object', properties: { n: { type: 'integer', minimum: 'one' } } } }),
          ],
        }),
      ),
    ).toEqual([
      '/widgets/0/channels: "elsewhere" is not one of the plugin\'s overlayChannels',
      '/widgets/1/id "main" is used by another widget of the plugin',
      '/widgets/1/entry must stay inside the plugin folder',
      '/widgets/2/options must be a JSON Schema of type "object" (one property per URL option)',
      expect.stringMatching(/^\/widgets\/3\/options is not a valid JSON Schema: /),
    ]);
  });

  it('refuses a widget without channels, with an id that is not lower-case, or a size out of range', () => {
    expect(problemsOf(manifest({ widgets: [widget({ channels: [] })] })).join('\n')).toMatch(/channels/);
    expect(problemsOf(manifest({ widgets: [widget({ id: 'Main' })] })).join('\n')).toMatch(/\/widgets\/0\/id/);
    expect(problemsOf(manifest({ widgets: [widget({ size: { width: 0, height: 1080 } })] })).join('\n')).toMatch(/\/widgets\/0\/size\/width/);
  });

  it('refuses a widget channel when the plugin declares no channels at all', () => {
    expect(problemsOf({ ...manifest(), overlayChannels: undefined, widgets: [widget()] })).toEqual(['/widgets/0/channels: "main" is not one of the plugin\'s overlayChannels']);
  });

  it('takes a look: its defaults checked against the look options, none of them redefined among its own options', () => {
    expect(problemsOf(manifest({ widgets: [widget({ look: { position: 'bottom-right', fontSize: 30, bg: '#17151f' } })] }))).toEqual([]);
    expect(problemsOf(manifest({ widgets: [widget({ look: {} })] }))).toEqual([]);
    expect(problemsOf(manifest({ widgets: [widget({ look: { position: 'middle' } })] })).join('\n')).toMatch(/\/widgets\/0\/look\/position/);
    expect(problemsOf(manifest({ widgets: [widget({ look: { colour: 'red' } })] })).join('\n')).toMatch(/\/widgets\/0\/look/);
    expect(problemsOf(manifest({ widgets: [widget({ look: { color: 'red;x:y' } })] })).join('\n')).toMatch(/\/widgets\/0\/look\/color/);
    expect(
      problemsOf(manifest({ widgets: [widget({ look: {}, options: { type: 'object', properties: { fontSize: { type: 'integer' }, token: { type: 'string' } } } })] })),
    ).toEqual([
      '/widgets/0/options/properties/fontSize is a look option: set its default in /widgets/0/look instead',
      '/widgets/0/options/properties/token: "token" is a parameter of every widget URL, not an option',
    ]);
  });

  it('refuses options whose defaults break their own schema', () => {
    expect(problemsOf(manifest({ widgets: [widget({ options: { type: 'object', properties: { size: { type: 'integer', maximum: 10, default: 64 } } } })] }))).toEqual([
      '/widgets/0/options: its defaults break it: /size must be <= 10',
    ]);
  });

  it('of the first-party plugins are valid', async () => {
    for (const id of ['alerts', 'chat', 'goals', 'leaderboard', 'rules']) {
      const { ttlp } = JSON.parse(await readFile(new URL(`../../plugins/${id}/package.json`, import.meta.url), 'utf8'));
      expect([id, problemsOf(ttlp)]).toEqual([id, []]);
    }
  });
});
