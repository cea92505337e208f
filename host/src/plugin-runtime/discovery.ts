/**
 * Finds plugins: every folder of the repository's `plugins/` and of `PLUGINS_DIR` with a
 * `package.json` that has a `"ttlp"` manifest. A broken manifest is reported with all its
 * problems and the plugin left out; the others load.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateManifest, type PluginManifest } from '@ttlp/sdk/manifest';

export const FIRST_PARTY_PLUGINS_DIR = fileURLToPath(new URL('../../../plugins/', import.meta.url));

/** Where a host looks for plugins: the first-party ones, then `PLUGINS_DIR`. */
export function pluginRoots(config: { pluginsDir: string }): string[] {
  return [FIRST_PARTY_PLUGINS_DIR, path.resolve(config.pluginsDir)];
}

export interface DiscoveredPlugin {
  dir: string;
  manifest: PluginManifest;
}

export interface DiscoveryProblem {
  dir: string;
  problems: string[];
}

export interface Discovery {
  plugins: DiscoveredPlugin[];
  problems: DiscoveryProblem[];
}

function candidateFolders(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .map((name) => path.join(root, name))
    .filter((dir) => statSync(dir).isDirectory() && existsSync(path.join(dir, 'package.json')));
}

/** Reads one plugin folder's manifest. */
export function readPlugin(dir: string): DiscoveredPlugin | DiscoveryProblem {
  let packageJson: { ttlp?: unknown };
  try {
    packageJson = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { ttlp?: unknown };
  } catch (error) {
    return { dir, problems: [`package.json cannot be read: ${(error as Error).message}`] };
  }
  if (packageJson.ttlp === undefined) return { dir, problems: ['package.json has no "ttlp" manifest'] };
  const result = validateManifest(packageJson.ttlp);
  if (!result.ok) return { dir, problems: result.problems.map((problem) => `ttlp${problem.startsWith('(root)') ? problem.slice(6) : problem}`) };
  if (!existsSync(path.join(dir, result.manifest.entry))) return { dir, problems: [`ttlp/entry: ${result.manifest.entry} does not exist`] };
  return { dir, manifest: result.manifest };
}

export function discoverPlugins(roots: string[]): Discovery {
  const plugins: DiscoveredPlugin[] = [];
  const problems: DiscoveryProblem[] = [];
  const seen = new Map<string, string>();
  for (const dir of roots.flatMap(candidateFolders)) {
    const found = readPlugin(dir);
    if ('problems' in found) {
      // Folders that are not plugins at all (no manifest) are not worth a warning.
      if (!found.problems[0]?.startsWith('package.json has no')) problems.push(found);
      continue;
    }
    const earlier = seen.get(found.manifest.id);
    if (earlier) {
      problems.push({ dir, problems: [`the id "${found.manifest.id}" is already used by ${earlier}`] });
      continue;
    }
    seen.set(found.manifest.id, dir);
    plugins.push(found);
  }
  return { plugins, problems };
}

/** The plugins found again, and how they differ from those known before (development mode). */
export interface Rediscovery extends Discovery {
  /** Plugins not known before: a new folder, or one that came back. */
  added: DiscoveredPlugin[];
  /** Known plugins no longer found: their folder is gone, or is no plugin any more. */
  removed: DiscoveredPlugin[];
  /** Known plugins found in one of the `touched` folders, or in another folder than before. */
  edited: DiscoveredPlugin[];
}

/**
 * Discovers the plugins in `roots` again and compares them, by id, with `known`. A known plugin
 * whose manifest no longer reads (an edit under way) stays listed as it was, its problem beside
 * it, rather than vanishing.
 */
export function rediscover(known: DiscoveredPlugin[], roots: string[], touched: ReadonlySet<string>): Rediscovery {
  const discovery = discoverPlugins(roots);
  const found = new Set(discovery.plugins.map((plugin) => plugin.manifest.id));
  const broken = new Set(discovery.problems.map((problem) => problem.dir));
  const lost = known.filter((plugin) => !found.has(plugin.manifest.id));
  const plugins = [...discovery.plugins, ...lost.filter((plugin) => broken.has(plugin.dir))];
  const before = new Map(known.map((plugin) => [plugin.manifest.id, plugin.dir]));
  return {
    plugins,
    problems: discovery.problems,
    added: discovery.plugins.filter((plugin) => !before.has(plugin.manifest.id)),
    removed: lost.filter((plugin) => !broken.has(plugin.dir)),
    edited: plugins.filter((plugin) => {
      const dir = before.get(plugin.manifest.id);
      return dir !== undefined && (dir !== plugin.dir || touched.has(plugin.dir));
    }),
  };
}
