/**
 * Bundles a plugin's entry with esbuild into one script for its isolate, with its source map. A
 * plugin may import `@ttlp/sdk` (and `@ttlp/sdk/logic`) and its own files; anything else
 * (packages, Node built-ins, files outside its folder) fails the build with a message naming the
 * import.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Message, type Plugin } from 'esbuild';
import { BUNDLE_FILENAME } from './source-positions.ts';

// Not through the global URL: a DOM test environment (a widget's test) replaces it with its own.
const SDK_SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..') + path.sep;
/** What a plugin may import, and where it is. */
const PLUGIN_MODULES: Record<string, string> = {
  '@ttlp/sdk': path.join(SDK_SOURCE, 'index.ts'),
  '@ttlp/sdk/logic': path.join(SDK_SOURCE, 'logic', 'index.ts'),
};

/** The global the bundle assigns the entry's exports to; the prelude reads it. */
export const PLUGIN_MODULE_GLOBAL = '__ttlp_plugin_module';

/** A plugin as its isolate runs it. */
export interface PluginBundle {
  /** The script: running it sets `globalThis.__ttlp_plugin_module`. */
  code: string;
  /**
   * Its source map (JSON, sources relative to the plugin's folder), which points the plugin's
   * faults at its own files; without it they point at the bundle.
   */
  sourceMap?: string;
}

export class PluginBuildError extends Error {
  constructor(
    readonly pluginDir: string,
    readonly problems: string[],
  ) {
    super(`cannot build the plugin in ${pluginDir}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'PluginBuildError';
  }
}

const inside = (dir: string, file: string) => {
  const relative = path.relative(dir, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
};

function onlyTheSdk(pluginDir: string): Plugin {
  return {
    name: 'ttlp-only-the-sdk',
    setup(builder) {
      builder.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const sdkModule = PLUGIN_MODULES[args.path];
        if (sdkModule) return { path: sdkModule };
        // The SDK's own dependencies come with it (the SDK decides what it offers plugins).
        if (inside(SDK_SOURCE, args.importer)) return undefined;
        if (args.path.startsWith('.') || path.isAbsolute(args.path)) {
          const target = path.resolve(args.resolveDir, args.path);
          if (inside(pluginDir, target) || inside(SDK_SOURCE, target)) return undefined;
          return { errors: [{ text: `"${args.path}" is outside the plugin's folder; a plugin can import only @ttlp/sdk and its own files` }] };
        }
        return { errors: [{ text: `"${args.path}" cannot be imported; a plugin can import only @ttlp/sdk and its own files` }] };
      });
    },
  };
}

const describe = (message: Message) =>
  message.location ? `${message.location.file}:${message.location.line}:${message.location.column}: ${message.text}` : message.text;

/** The plugin as one script, with its source map. */
export async function bundlePlugin(pluginDir: string, entry: string): Promise<PluginBundle> {
  const root = path.resolve(pluginDir);
  try {
    const result = await build({
      entryPoints: [path.resolve(root, entry)],
      absWorkingDir: root,
      bundle: true,
      write: false,
      // Never written: it names the bundle, and makes the map's sources relative to the plugin's folder.
      outfile: path.join(root, BUNDLE_FILENAME),
      sourcemap: 'external',
      sourcesContent: false,
      format: 'iife',
      globalName: PLUGIN_MODULE_GLOBAL,
      platform: 'neutral',
      // The SDK's CommonJS dependencies (json-logic-js) name their code only in `main`.
      mainFields: ['module', 'main'],
      target: 'es2022',
      logLevel: 'silent',
      legalComments: 'none',
      plugins: [onlyTheSdk(root)],
    });
    const output = (extension: string) => result.outputFiles.find((file) => file.path.endsWith(extension))!.text;
    return { code: output('.js'), sourceMap: output('.js.map') };
  } catch (error) {
    const failure = error as { errors?: Message[] };
    if (failure.errors) throw new PluginBuildError(root, failure.errors.map(describe));
    throw error;
  }
}
