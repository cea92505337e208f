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
});
