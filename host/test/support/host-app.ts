/**
 * The API app on a real back-end for route tests (`app.inject()`, no port): pipeline stages and
 * the plugin host (first-party plugins) running, an admin token issued.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { AccessTokens, LoginLimiter } from '../../src/api/auth.ts';
import { HostMetrics } from '../../src/metrics/host-metrics.ts';
import { loadConfig, pluginLimits } from '../../src/config.ts';
import { IngestBoard } from '../../src/ingest/status.ts';
import { createLogger } from '../../src/log.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { FIRST_PARTY_PLUGINS_DIR } from '../../src/plugin-runtime/discovery.ts';
import { PluginHost } from '../../src/plugin-runtime/plugin-host.ts';
import { createTestBackend, type BackendKind } from './backends.ts';

/**
 * A stand-in for the built pages (`overlays/dist`): the two pages, titled `settings` and
 * `overlay`, and one hashed asset, `/assets/app-1234.js`.
 */
export function fakeOverlaysDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ttlp-overlays-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>settings</title>');
  writeFileSync(path.join(dir, 'overlay.html'), '<!doctype html><title>overlay</title>');
  writeFileSync(path.join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
  return dir;
}

/** The tests' pseudonymization key (at least 32 bytes). */
export const TEST_PSEUDONYMIZATION_SECRET = 'test-pseudonymization-secret-0123456789abcdef';

export interface TestApp {
  app: FastifyInstance;
  adminToken: string;
  admin: { authorization: string };
  pipeline: Pipeline;
  plugins: PluginHost;
  ingest: IngestBoard;
  tokens: AccessTokens;
  metrics: HostMetrics;
  close(): Promise<void>;
}

/** `env`: settings of the host's own (`PLUGIN_HEAP_MB`, say) over the back-end's; `pluginRoots`: where its plugins are (the first-party ones by default). */
export async function openTestApp(
  kind: BackendKind,
  options: { overlaysDir?: string; loginLimiter?: LoginLimiter; env?: NodeJS.ProcessEnv; pluginRoots?: string[] } = {},
): Promise<TestApp> {
  const backend = await createTestBackend(kind, options.env);
  const config = loadConfig(backend.env);
  // As the host runs them: one set of limits for the plugin host and for the API that shows them.
  const limits = pluginLimits(config);
  const log = createLogger({ level: 'silent', destination: process.stderr });
  const pipeline = await Pipeline.open(config, log);
  pipeline.startStages();
  const metrics = new HostMetrics(pipeline.bus);
  const plugins = await PluginHost.open({ store: pipeline.store, bus: pipeline.bus, log, roots: options.pluginRoots ?? [FIRST_PARTY_PLUGINS_DIR], limits, observer: metrics.pluginObserver() });
  await plugins.start(pipeline.consumer, { blockMs: 50 });
  const ingest = new IngestBoard();
  const tokens = new AccessTokens(pipeline.store);
  const adminToken = (await tokens.issueFirstAdminToken())!;
  const app = await buildApp({
    store: pipeline.store,
    bus: pipeline.bus,
    log,
    tokens,
    metrics,
    ingest,
    plugins,
    pluginLimits: limits,
    overlaysDir: options.overlaysDir,
    loginLimiter: options.loginLimiter,
    pseudonymizationSecret: TEST_PSEUDONYMIZATION_SECRET,
  });
  return {
    app,
    adminToken,
    admin: { authorization: `Bearer ${adminToken}` },
    pipeline,
    plugins,
    ingest,
    tokens,
    metrics,
    async close() {
      await app.close();
      await plugins.close();
      await pipeline.close();
      await backend.dispose();
    },
  };
}
