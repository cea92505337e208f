/**
 * Builds a plugin's widget for the browser: its entry (a TS or JS module, or a Svelte component)
 * bundled by esbuild into one classic script, `@ttlp/sdk` and `@ttlp/sdk/widget` taken from this
 * host's SDK so that the widget always speaks the host's protocol. A Svelte component is mounted
 * into the widget's root with the open widget as its `widget` prop. Other packages come from the
 * plugin's own `node_modules` (or the host's). Builds are kept until one of their input files changes.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Message, type Plugin } from 'esbuild';
import { compile } from 'svelte/compiler';
import { messageOf } from '@ttlp/sdk';

const SDK_SOURCE = path.dirname(fileURLToPath(import.meta.resolve('@ttlp/sdk')));
const HOST_MODULES = path.resolve(fileURLToPath(new URL('../../../node_modules', import.meta.url)));
const SDK_MODULES: Record<string, string> = {
  '@ttlp/sdk': path.join(SDK_SOURCE, 'index.ts'),
  '@ttlp/sdk/widget': path.join(SDK_SOURCE, 'widget', 'index.ts'),
};
/** The module that mounts a Svelte entry; esbuild resolves it in the plugin's folder. */
const SVELTE_MOUNT = 'ttlp-widget-mount';

export type WidgetBuild = { ok: true; code: string; inputs: Map<string, number> } | { ok: false; error: string; inputs: Map<string, number> };

/** The widget SDK and the Svelte compiler, as esbuild sees them. */
function widgetModules(entry: string): Plugin {
  return {
    name: 'ttlp-widget-modules',
    setup(builder) {
      builder.onResolve({ filter: /^@ttlp\/sdk(\/widget)?$/ }, (args) => ({ path: SDK_MODULES[args.path]! }));
      builder.onResolve({ filter: new RegExp(`^${SVELTE_MOUNT}$`) }, () => ({ path: SVELTE_MOUNT, namespace: SVELTE_MOUNT }));
      builder.onLoad({ filter: /.*/, namespace: SVELTE_MOUNT }, () => ({
        resolveDir: path.dirname(entry),
        loader: 'ts',
        contents: `import { mount } from 'svelte';
import { openWidget } from '@ttlp/sdk/widget';
import Widget from ${JSON.stringify(entry)};
const widget = openWidget();
mount(Widget, { target: widget.root, props: { widget } });
`,
      }));
      builder.onLoad({ filter: /\.svelte$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        try {
          const compiled = compile(source, { filename: args.path, generate: 'client', css: 'injected', dev: false });
          return { contents: compiled.js.code, loader: 'js', resolveDir: path.dirname(args.path) };
        } catch (error) {
          return { errors: [{ text: messageOf(error) }] };
        }
      });
    },
  };
}

const describe = (dir: string, message: Message) =>
  message.location ? `${path.relative(dir, path.resolve(dir, message.location.file))}:${message.location.line}:${message.location.column}: ${message.text}` : message.text;

/** Builds the widget whose entry is `entry` (relative to `pluginDir`). Never throws: a failed build says why. */
export async function buildWidget(pluginDir: string, entry: string): Promise<WidgetBuild> {
  const file = path.resolve(pluginDir, entry);
  const svelte = file.endsWith('.svelte');
  try {
    const result = await build({
      entryPoints: [svelte ? SVELTE_MOUNT : file],
      absWorkingDir: pluginDir,
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      minify: true,
      metafile: true,
      logLevel: 'silent',
      conditions: ['browser', 'svelte'],
      nodePaths: [path.join(pluginDir, 'node_modules'), HOST_MODULES],
      plugins: [widgetModules(file)],
    });
    return { ok: true, code: result.outputFiles[0]!.text, inputs: await inputTimes(pluginDir, Object.keys(result.metafile.inputs)) };
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    const text = errors?.length ? errors.map((message) => describe(pluginDir, message)).join('\n') : messageOf(error);
    // The entry is the one input known to matter: a fix there rebuilds.
    return { ok: false, error: text, inputs: await inputTimes(pluginDir, [file]) };
  }
}

/** The modification time of each of the build's own files (not the SDK's or packages'). */
async function inputTimes(pluginDir: string, inputs: string[]): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (const input of inputs) {
    const file = path.resolve(pluginDir, input);
    if (input.includes(':') || file.includes(`${path.sep}node_modules${path.sep}`) || !file.startsWith(pluginDir)) continue;
    times.set(file, await modifiedAt(file));
  }
  return times;
}

/** When `file` was last changed; -1 when it is gone. */
const modifiedAt = (file: string) => stat(file).then((info) => info.mtimeMs, () => -1);

/** True when a file the build read has changed (or gone) since. */
export async function outdated(built: WidgetBuild): Promise<boolean> {
  for (const [file, time] of built.inputs) if ((await modifiedAt(file)) !== time) return true;
  return false;
}
