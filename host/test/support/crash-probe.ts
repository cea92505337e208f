/**
 * Runs a plugin in a process of its own before a test lets it into the test's process: a plugin
 * that can take its whole process down (a fatal out-of-memory of the worker thread holding its
 * isolate) would otherwise end the test run, and every test after it with it.
 *
 * The probe is the host's own plugin runtime — the plugin bundled as the host bundles it, its
 * worker thread (`ThreadedSandbox`), the host's default limits — fed a few GIFT events; only the
 * services the plugin's calls reach are stand-ins. Run as a script (`node --no-node-snapshot
 * --import tsx crash-probe.ts <plugin dir> <grants JSON> <events>`), it prints PROBE_SURVIVED
 * when the process outlived them all.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePlugin } from '@ttlp/sdk/sandbox';
import { makeEvent } from '@ttlp/sdk/testing';
import { loadConfig, pluginLimits } from '../../src/config.ts';
import { ThreadedSandbox } from '../../src/plugin-runtime/sandbox-thread/threaded-sandbox.ts';
import { HANG_MS } from './patience.ts';

const PROBE_SURVIVED = 'PROBE_SURVIVED';
const THIS_FILE = fileURLToPath(import.meta.url);

export interface ProbeResult {
  survived: boolean;
  /** How the process ended, and the end of what it wrote (a fatal error's message). */
  said: string;
}

/** Runs the plugin in `pluginDir` in a child process on `events` GIFTs; answers whether the process survived. */
export function probeInChildProcess(pluginDir: string, grants: readonly string[], events: number): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', THIS_FILE, pluginDir, JSON.stringify(grants), String(events)], {
      cwd: path.dirname(THIS_FILE),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    // Only a hang: a probe that neither ends nor crashes is stopped, and says so.
    const hang = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.on('error', (error) => {
      clearTimeout(hang);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(hang);
      const survived = code === 0 && output.includes(PROBE_SURVIVED);
      const lines = output.split('\n').filter((line) => line.trim() !== '' && !line.includes(PROBE_SURVIVED));
      const errors = lines.filter((line) => /FATAL|Error|error/.test(line));
      const fatal = (errors.length > 0 ? errors.slice(0, 3) : lines.slice(-2)).join(' / ');
      resolve({ survived, said: `exit ${signal ?? code}${fatal ? `: ${fatal.slice(0, 300)}` : ''}` });
    });
  });
}

async function probe(pluginDir: string, grants: string[], events: number): Promise<void> {
  const bundle = await bundlePlugin(pluginDir, 'index.ts');
  const sandbox = await ThreadedSandbox.start({
    pluginId: path.basename(pluginDir),
    ...bundle,
    config: {},
    grants,
    limits: pluginLimits(loadConfig({})),
    services: {
      overlay: () => undefined,
      log: () => undefined,
      kvGet: async () => undefined,
      kvSet: async () => undefined,
      kvDelete: async () => undefined,
      fetch: async () => ({ status: 204, headers: {}, body: '' }),
    },
  });
  for (let i = 0; i < events; i += 1) {
    const event = makeEvent('GIFT', { giftId: 5655, giftName: 'Rose', giftCount: 1, coins: 1 });
    await sandbox.dispatchMany([event], [JSON.stringify(event)]);
  }
  await sandbox.close();
  process.stdout.write(`${PROBE_SURVIVED}\n`);
}

if (process.argv[1] === THIS_FILE) {
  const [pluginDir, grants, events] = process.argv.slice(2);
  await probe(pluginDir!, JSON.parse(grants!) as string[], Number(events));
}
