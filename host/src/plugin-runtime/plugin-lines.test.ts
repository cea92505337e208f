import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePlugin } from '../../../sdk/test/support/plugin-dir.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { createTestBackend, type TestBackend } from '../../test/support/backends.ts';
import { captureEvents } from '../../test/support/captures.ts';
import { enablePlugin, grantPermissions } from './admin.ts';
import { discoverPlugins } from './discovery.ts';
import { PluginHost } from './plugin-host.ts';

/** A plugins folder holding one plugin folder per source, named by its id. */
function pluginsRoot(plugins: Array<{ id: string; source: string; manifest?: Record<string, unknown> }>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'ttlp-plugins-'));
  for (const { id, source, manifest } of plugins) renameSync(writePlugin(source, { id, ...manifest }), path.join(root, id));
  return root;
}

const grumpy = `
  import { definePlugin } from '@ttlp/sdk';
  export default definePlugin({
    setup(ctx) {
      ctx.on('CHAT', () => {
        ctx.log.warn('hello from the plugin');
        throw new Error('boom');
      });
    },
  });`;

const steady = `
  import { definePlugin } from '@ttlp/sdk';
  export default definePlugin({ setup() {} });`;

describe('log lines about plugins, on a terminal', () => {
  let backend: TestBackend;
  let pipeline: Pipeline;
  const silent = createLogger({ level: 'silent', destination: process.stderr });

  beforeAll(async () => {
    backend = await createTestBackend('embedded');
    pipeline = await Pipeline.open(loadConfig(backend.env), silent);
  });

  afterAll(async () => {
    await pipeline.close();
    await backend.dispose();
  });

  it('name the plugin or the folder and the reason in the message itself', async () => {
    const root = pluginsRoot([
      { id: 'grumpy', source: grumpy },
      { id: 'steady', source: steady },
    ]);
    const broken = pluginsRoot([{ id: 'broken', source: steady, manifest: { version: 'one' } }]);
    for (const plugin of discoverPlugins([root]).plugins) {
      await grantPermissions(pipeline.store, plugin, 'all');
      await enablePlugin(pipeline.store, plugin);
    }
    let text = '';
    const destination = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    const log = createLogger({ level: 'info', pretty: true, destination });
    const host = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log, roots: [root, broken], limits: { maxFaults: 1 } });
    const reloaded = new Promise<string | undefined>((resolve) => host.watch((pluginId, error) => pluginId === 'steady' && resolve(error)));
    const [chat] = captureEvents('web.capture.ndjson').filter((event) => event.eventType === 'CHAT');
    await host.dispatch([chat!]);
    writeFileSync(path.join(root, 'steady', 'index.ts'), 'export default definePlugin({ setup( };');
    expect(await reloaded).toContain('index.ts:1:');
    await host.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(broken, { recursive: true, force: true });

    const lines = text.split('\n');
    const line = (pattern: RegExp) => expect(lines.find((candidate) => pattern.test(candidate)), `a line like ${pattern} in:\n${text}`).toBeDefined();
    line(new RegExp(`WARN: plugin folder ${path.join(broken, 'broken')} skipped: .*ttlp/version must match pattern`));
    line(/INFO: plugin grumpy started \(version 1\.0\.0\)/);
    line(/WARN: grumpy: hello from the plugin$/);
    // Where in the plugin's index.ts it threw.
    const boom = `Error: boom \\(at index\\.ts:${grumpy.split('\n').findIndex((source) => source.includes("'boom'")) + 1}:\\d+\\)`;
    line(new RegExp(`WARN: plugin grumpy: error fault in event ${chat!.eventId}: ${boom}$`));
    line(new RegExp(`ERROR: plugin grumpy disabled: 1 faults within 60 s; the last: ${boom}$`));
    line(/ERROR: plugin steady not reloaded, the running version stays: cannot build the plugin in /);
    expect(text).toContain('index.ts:1:');
  });
});
