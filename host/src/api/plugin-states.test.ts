/** The plugin routes on plugins of a test's own: a setup that fails, and grants on their own. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostStatus, PluginView } from '@ttlp/sdk/host-contract';
import { openTestApp, type TestApp } from '../../test/support/host-app.ts';
import { CHAT_COUNTER_PLUGIN, FAILING_SETUP_PLUGIN, writePluginRoot, type PluginRoot } from '../../test/support/plugin-root.ts';

let root: PluginRoot;
let host: TestApp;

beforeAll(async () => {
  root = writePluginRoot([FAILING_SETUP_PLUGIN, CHAT_COUNTER_PLUGIN]);
  host = await openTestApp('embedded', { pluginRoots: [root.dir] });
});

afterAll(async () => {
  await host?.close();
  root?.remove();
});

const view = async (id: string): Promise<PluginView> => (await host.app.inject({ method: 'GET', url: `/api/plugins/${id}`, headers: host.admin })).json();

describe('a plugin whose setup fails', () => {
  it('shows as failed, with the reason, in its view, the status and /health', async () => {
    const enabled = await host.app.inject({ method: 'POST', url: '/api/plugins/no-setup/enable', headers: host.admin, payload: { grant: ['events:CHAT'] } });
    expect(enabled.statusCode).toBe(200);
    const reason = 'setup failed: error: Error: not allowed to use kv (grant "kv" is missing)';
    expect(enabled.json()).toMatchObject({ enabled: true, running: false, state: 'failed', status: 'failed', faultCount: 1, lastError: reason, dir: expect.stringContaining('no-setup') });
    expect(await view('no-setup')).toMatchObject({ state: 'failed', lastError: reason });

    const status: HostStatus = (await host.app.inject({ method: 'GET', url: '/api/status', headers: host.admin })).json();
    expect(status.plugins.faulted).toEqual(['no-setup']);
    expect(status.plugins.running).not.toContain('no-setup');
    const health = (await host.app.inject({ method: 'GET', url: '/health' })).json();
    expect(health.components.plugins).toEqual({ status: 'degraded', detail: 'faulted: no-setup' });
  });
});

describe('grants', () => {
  it('grants permissions on their own, without enabling; refuses one the plugin does not request', async () => {
    const granted = await host.app.inject({ method: 'POST', url: '/api/plugins/counter/grant', headers: host.admin, payload: { grant: ['kv'] } });
    expect(granted.statusCode).toBe(200);
    expect(granted.json()).toMatchObject({ enabled: false, running: false, grantedPermissions: ['kv'], status: 'installed', state: 'disabled' });
    const unknown = await host.app.inject({ method: 'POST', url: '/api/plugins/counter/grant', headers: host.admin, payload: { grant: ['http:https://example.com/**'] } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'PLUGIN_PERMISSION_UNKNOWN', message: 'counter does not request http:https://example.com/** (it requests: events:CHAT, kv)' });
    expect((await host.app.inject({ method: 'POST', url: '/api/plugins/nope/grant', headers: host.admin, payload: { grant: [] } })).statusCode).toBe(404);
    expect((await view('counter')).grantedPermissions).toEqual(['kv']);
  });
});
