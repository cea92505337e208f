/**
 * Development mode's watch on the plugin roots (`ttlp start --dev`): every folder in them — a
 * plugin's or not yet one, running or not — so that an edit, a new folder and a removed one are all
 * noticed while the host runs. Changes are reported by plugin folder (`<root>/<name>`) once they
 * have settled.
 *
 * Each directory has a watch of its own rather than one `recursive` watch: on Linux, Node's
 * recursive watch follows the files themselves and loses one as soon as an editor replaces it by a
 * rename, after which saves in place go unheard. A directory's watch hears its entries written in
 * place and renamed alike. `node_modules`, dot-files and `~` backups are left out.
 */
import { existsSync, readdirSync, statSync, watch, type Dirent, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { errorSummary } from '../error-summary.ts';
import type { Logger } from '../log.ts';

/** Changes within this long of each other count as one (editors write in several steps). */
export const SETTLE_MS = 200;
/** How often a root that does not exist yet is looked for (`PLUGINS_DIR` before the first `ttlp plugin new`). */
const MISSING_ROOT_CHECK_MS = 1_000;

export interface PluginFolderWatchOptions {
  roots: string[];
  log: Logger;
  /**
   * Hears the plugin folders changed since its last call (none when only a root's own listing
   * changed); awaited before it is called again.
   */
  changed: (folders: ReadonlySet<string>) => Promise<void>;
  settleMs?: number;
}

/** Entries no plugin build reads: dependencies, editors' and tools' dot-files, backups. */
function ignored(name: string): boolean {
  return name === 'node_modules' || name.startsWith('.') || name.endsWith('~');
}

/** `dir` and every directory under it that is not ignored; none when it does not exist. */
function directoriesUnder(dir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const subdirectories = entries.filter((entry) => entry.isDirectory() && !ignored(entry.name));
  return [dir, ...subdirectories.flatMap((entry) => directoriesUnder(path.join(dir, entry.name)))];
}

/** The identity of a directory: one removed and made again under the same name is another. */
function inodeOf(dir: string): number | undefined {
  try {
    return statSync(dir).ino;
  } catch {
    return undefined;
  }
}

export class PluginFolderWatch {
  /** Each watched directory's watch, and the inode it watches. */
  private readonly watchers = new Map<string, { watcher: FSWatcher; inode: number | undefined }>();
  /** Directories whose watch could not be made, warned of once. */
  private readonly unwatchable = new Set<string>();
  private touched = new Set<string>();
  private dirty = false;
  private settle: NodeJS.Timeout | undefined;
  private readonly rootCheck: NodeJS.Timeout;
  private passes: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: PluginFolderWatchOptions) {
    this.sync();
    this.rootCheck = setInterval(() => {
      if (options.roots.some((root) => !this.watchers.has(root) && existsSync(root))) this.schedule();
    }, MISSING_ROOT_CHECK_MS);
    this.rootCheck.unref();
  }

  /** Stops watching; resolves once a report under way has been handled. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.settle);
    clearInterval(this.rootCheck);
    for (const { watcher } of this.watchers.values()) watcher.close();
    this.watchers.clear();
    await this.passes;
  }

  /** The plugin folder that `entry` (a path under a root) belongs to; undefined for a root itself. */
  private folderOf(entry: string): string | undefined {
    for (const root of this.options.roots) {
      const relative = path.relative(root, entry);
      if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) continue;
      return path.join(root, relative.split(path.sep)[0]!);
    }
    return undefined;
  }

  private heard(dir: string, name: string | null): void {
    if (name !== null && ignored(path.basename(name))) return;
    const folder = this.folderOf(name === null ? dir : path.join(dir, name));
    if (folder) this.touched.add(folder);
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.dirty = true;
    clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      this.passes = this.passes.then(() => this.report());
    }, this.options.settleMs ?? SETTLE_MS);
  }

  /** Watches the directories that appeared (they count as changed), then reports what changed. */
  private async report(): Promise<void> {
    if (this.closed || !this.dirty) return;
    this.dirty = false;
    // Watched before the report is heard: what is written later is heard, what was written earlier is read by the listener.
    for (const dir of this.sync()) {
      const folder = this.folderOf(dir);
      if (folder) this.touched.add(folder);
    }
    const folders = this.touched;
    this.touched = new Set();
    try {
      await this.options.changed(folders);
    } catch (error) {
      this.options.log.error({ err: errorSummary(error) }, `changes to the plugin folders could not be applied: ${errorSummary(error)}`);
    }
  }

  /**
   * Watches every directory now under the roots and drops the watches of those gone, or replaced
   * by another of the same name; returns the ones newly watched.
   */
  private sync(): string[] {
    const present = new Map(this.options.roots.flatMap(directoriesUnder).map((dir) => [dir, inodeOf(dir)]));
    for (const [dir, watched] of this.watchers) {
      if (present.has(dir) && present.get(dir) === watched.inode) continue;
      this.unwatch(dir);
    }
    const added: string[] = [];
    for (const [dir, inode] of present) if (!this.watchers.has(dir) && this.watchDirectory(dir, inode)) added.push(dir);
    return added;
  }

  private unwatch(dir: string): void {
    this.watchers.get(dir)?.watcher.close();
    this.watchers.delete(dir);
  }

  private watchDirectory(dir: string, inode: number | undefined): boolean {
    try {
      const watcher = watch(dir, (_event, name) => this.heard(dir, name));
      // The directory went away or cannot be watched any more: the next report watches it again if it is there.
      watcher.on('error', () => {
        if (this.watchers.get(dir)?.watcher === watcher) this.unwatch(dir);
        this.schedule();
      });
      this.watchers.set(dir, { watcher, inode });
      return true;
    } catch (error) {
      if (!this.unwatchable.has(dir)) {
        this.unwatchable.add(dir);
        this.options.log.warn({ dir, err: errorSummary(error) }, `changes in ${dir} will not be noticed: ${errorSummary(error)}`);
      }
      return false;
    }
  }
}
