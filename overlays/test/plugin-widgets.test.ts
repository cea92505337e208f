/**
 * Plugins' own widgets in a real browser (Debian's chromium through playwright-core), against
 * `ttlp start` with a folder of third-party plugins: a widget shows its plugin's messages; a
 * hostile widget reaches neither the API nor the settings page's cookie, nor another plugin's
 * channels; a widget that does not build leaves its plugin and the other widgets working.
 * With TTLP_SCREENSHOTS=<dir> the screenshot used in the docs is written there.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import type { OverlayLink, PluginView } from '@ttlp/sdk/host-contract';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { scaffoldPlugin } from '../../host/src/cli/new-plugin.ts';
import { writeGuideWidgetPlugin } from '../../host/test/support/guide.ts';
import { HANG_MS } from '../../host/test/support/patience.ts';
import { launchChromium } from './chromium.ts';
import { freePort, HostProcess, repoRoot, type Banner } from './host-process.ts';

const SCREENSHOTS = process.env.TTLP_SCREENSHOTS ? path.resolve(repoRoot, process.env.TTLP_SCREENSHOTS) : undefined;

/** A plugin folder: its manifest (`ttlp`) and files. */
function writePluginFolder(root: string, ttlp: Record<string, unknown>, files: Record<string, string>): void {
  const dir = path.join(root, String(ttlp.id));
  for (const [name, text] of Object.entries({ ...files, 'package.json': JSON.stringify({ name: `ttlp-plugin-${String(ttlp.id)}`, private: true, type: 'module', ttlp }) })) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
}

const manifest = (id: string, widget: Record<string, unknown>) => ({
  id,
  displayName: id[0]!.toUpperCase() + id.slice(1),
  version: '0.1.0',
  entry: 'src/index.ts',
  permissions: { events: ['FOLLOW'] },
  overlayChannels: ['main'],
  widgets: [{ id: 'main', displayName: `${id} widget`, entry: 'src/widget.ts', channels: ['main'], ...widget }],
});

/** Every plugin here thanks each follower on its `main` channel. */
const THANKS = `import { definePlugin } from '@ttlp/sdk';
export default definePlugin({
  setup(ctx) {
    ctx.on('FOLLOW', (event) => void ctx.overlay.send('main', { text: 'Thanks for the follow, ' + (event.user.displayName ?? event.user.uniqueId) + '!' }));
  },
});
`;

const SHOUT_WIDGET = `import { openWidget } from '@ttlp/sdk/widget';
type Messages = { main: { text: string } };
const widget = openWidget<Messages, { color: string; size: number }>();
widget.onMessage('main', (data) => {
  const line = document.createElement('div');
  line.className = 'shout';
  line.textContent = data.text;
  line.style.cssText = 'position:absolute;left:40px;right:40px;bottom:320px;text-align:center;font:800 ' + widget.options.size + 'px system-ui,sans-serif;color:' + widget.options.color + ';text-shadow:0 4px 12px #000c';
  widget.root.replaceChildren(line);
});
`;

/** Tries everything a widget must not be able to do, and writes what happened into the page. */
const SNEAKY_WIDGET = `import { openWidget } from '@ttlp/sdk/widget';
const widget = openWidget();
const report: Record<string, string> = {};
const attempt = async (name: string, work: () => unknown) => {
  try { report[name] = 'got: ' + String(await work()).slice(0, 200); } catch (error) { report[name] = 'refused: ' + ((error as Error).name || 'error'); }
};
const shout = new URL('/ws/overlay/shout/main' + location.search, location.href.replace(/^http/, 'ws')).href;
(async () => {
  await attempt('cookie', () => document.cookie);
  await attempt('localStorage', () => localStorage.getItem('x'));
  await attempt('fetch', async () => (await fetch('/api/plugins', { credentials: 'include' })).status);
  await attempt('fetchSettings', async () => (await fetch('/', { credentials: 'include' })).status);
  await attempt('parent', () => window.parent.document.title);
  await attempt('otherSocket', () => new Promise((resolve, reject) => {
    const socket = new WebSocket(shout);
    socket.onmessage = (message) => resolve(message.data);
    socket.onerror = () => reject(Object.assign(new Error('socket'), { name: 'SocketError' }));
  }));
  const out = document.createElement('pre');
  out.id = 'report';
  out.textContent = JSON.stringify(report);
  widget.root.append(out);
})();
`;

let browser: Browser;
let host: HostProcess;
let banner: Banner;
let dataDir: string;
let pluginsDir: string;

const api = async (method: string, route: string, body?: unknown) => {
  const response = await fetch(`${banner.settingsUrl.replace(/\/$/, '')}${route}`, {
    method,
    headers: { authorization: `Bearer ${banner.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> | null };
};

async function enable(id: string): Promise<void> {
  const view = (await api('GET', `/api/plugins/${id}`)).body as unknown as PluginView;
  expect((await api('POST', `/api/plugins/${id}/enable`, { grant: view.requestedPermissions })).status).toBe(200);
}

async function linkOf(widget: string): Promise<OverlayLink> {
  let link: OverlayLink | undefined;
  await expect
    .poll(async () => {
      link = ((await api('GET', '/api/overlays')).body!.overlays as OverlayLink[]).find((overlay) => overlay.widget === widget);
      return link !== undefined;
    })
    .toBe(true);
  return link!;
}

async function newPage(viewport: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(HANG_MS);
  onTestFinished(() => page.close());
  return page;
}

/** Opens a widget socket with `token`; answers its first frame, or the HTTP status that refused it. */
function openSocket(pathAndQuery: string): Promise<{ status: number; hello?: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(banner.settingsUrl.replace(/^http/, 'ws').replace(/\/$/, '') + pathAndQuery);
    socket.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once('message', (data) => {
      resolve({ status: 101, hello: JSON.parse(String(data)) as Record<string, unknown> });
      socket.close();
    });
    socket.once('error', reject);
  });
}

const sendChat = async (displayName: string, message: string) =>
  expect((await api('POST', '/api/events/test', { eventType: 'CHAT', payload: { message }, user: { displayName } })).status).toBe(202);

const sendFollow = async (displayName: string) =>
  expect((await api('POST', '/api/events/test', { eventType: 'FOLLOW', payload: { displayType: 'pm_mt_msg_viewer_follow' }, user: { displayName } })).status).toBe(202);

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'ttlp-widgets-'));
  pluginsDir = path.join(dataDir, 'plugins');
  writePluginFolder(
    pluginsDir,
    manifest('shout', {
      size: { width: 1080, height: 1920 },
      options: {
        type: 'object',
        properties: { color: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$', default: '#ffffff' }, size: { type: 'integer', minimum: 8, maximum: 200, default: 72 } },
      },
    }),
    { 'src/index.ts': THANKS, 'src/widget.ts': SHOUT_WIDGET },
  );
  writePluginFolder(pluginsDir, manifest('sneaky', {}), { 'src/index.ts': THANKS, 'src/widget.ts': SNEAKY_WIDGET });
  writePluginFolder(pluginsDir, manifest('broken', {}), { 'src/index.ts': THANKS, 'src/widget.ts': 'const unfinished = ;\n' });
  writeGuideWidgetPlugin(path.join(pluginsDir, 'top-chatter'));
  // As \`ttlp plugin new shoutout --widget\` makes it; enabled through the settings page by the test.
  scaffoldPlugin('shoutout', pluginsDir, { widget: true });
  host = new HostProcess({ port: await freePort(), dataDir, env: { PLUGINS_DIR: pluginsDir } });
  banner = await host.start();
  for (const id of ['shout', 'sneaky', 'broken', 'top-chatter']) await enable(id);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await host?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("a plugin's widget", () => {
  it('shows the plugin’s message on its own page, at the size it declares, with its URL options', async () => {
    const link = await linkOf('shout/main');
    expect(link).toMatchObject({ pluginId: 'shout', widgetId: 'main', displayName: 'shout widget', size: { width: 1080, height: 1920 }, buildError: null });
    const page = await newPage(link.size);
    const frames: string[] = [];
    page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
    await page.goto(`${link.url}&color=%23ffd400&size=96`);
    // Connected and resumed: a message sent from now on is this page's.
    await expect.poll(() => frames.some((frame) => frame.includes('"type":"hello"'))).toBe(true);
    await sendFollow('Ada');
    const line = page.locator('.shout');
    await expect.poll(() => line.textContent()).toBe('Thanks for the follow, Ada!');
    // In the page (as text: this file is not compiled with the browser's types).
    expect(await page.evaluate("getComputedStyle(document.querySelector('.shout')).color")).toBe('rgb(255, 212, 0)');
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgba(0, 0, 0, 0)');
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOTS, 'plugin-widget-1080x1920.png') });
    }
  });

  it('of a plugin made by `ttlp plugin new --widget`, enabled in the settings page with consent, shows its message', async () => {
    const settings = await newPage({ width: 1440, height: 1000 });
    await settings.goto(banner.settingsUrl);
    await settings.getByTestId('login-token').fill(banner.adminToken!);
    await settings.getByTestId('login-submit').click();
    await settings.getByTestId('plugin-toggle-shoutout').click();
    await expect.poll(() => settings.getByTestId('permission-dialog').textContent()).toContain('FOLLOW');
    await settings.getByTestId('grant-enable').click();
    await expect.poll(() => settings.getByTestId('plugin-state-shoutout').textContent()).toBe('running');
    onTestFinished(async () => void (await api('POST', '/api/plugins/shoutout/disable')));

    const link = await linkOf('shoutout/main');
    const page = await newPage(link.size);
    const frames: string[] = [];
    page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
    await page.goto(`${link.url}&color=%23ffd400`);
    await expect.poll(() => frames.some((frame) => frame.includes('"type":"hello"'))).toBe(true);
    await sendFollow('Ada');
    await expect.poll(() => page.locator('.banner').textContent()).toBe('Thanks for the follow, Ada!');
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOTS, 'plugin-widget-shoutout.png') });
    }
  });

  it('of the plugin guide, as printed, shows its plugin’s state', async () => {
    const link = await linkOf('top-chatter/board');
    const page = await newPage(link.size);
    await page.goto(`${link.url}&fontSize=56`);
    await sendChat('Ada', 'hello');
    await sendChat('Ada', 'again');
    await expect.poll(() => page.locator('.top-chatter').textContent()).toBe('Top chatter: Ada (2)');
    expect(await page.evaluate("getComputedStyle(document.querySelector('.top-chatter')).fontSize")).toBe('56px');
  });

  it('of the rules plugin shows what a rule sends to rules-2, as text', async () => {
    const rules = { rules: [{ id: 'echo', name: 'Echo', events: ['CHAT'], actions: [{ type: 'overlay', channel: 'rules-2', template: '{user.displayName}: {payload.message}' }] }] };
    expect((await api('PUT', '/api/plugins/rules/config', { config: rules })).status).toBe(200);
    await enable('rules');
    onTestFinished(async () => void (await api('POST', '/api/plugins/rules/disable')));
    const link = await linkOf('rules/messages-2');
    expect(link).toMatchObject({ displayName: 'Rule messages (2)', buildError: null });
    const page = await newPage(link.size);
    const frames: string[] = [];
    page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
    await page.goto(`${link.url}&position=top`);
    await expect.poll(() => frames.some((frame) => frame.includes('"channels":["rules/rules-2"]'))).toBe(true);
    await sendChat('Ada', '<b>hi</b>');
    await expect.poll(() => page.locator('.rule-message.top').textContent()).toBe('Ada: <b>hi</b>');
    expect(await page.locator('.rule-message b').count()).toBe(0);
  });

  it('reaches neither the API nor the cookies, storage or page of the host, nor another plugin’s widget socket', async () => {
    const link = await linkOf('sneaky/main');
    const page = await newPage({ width: 1920, height: 1080 });
    // A settings session in this browser: the widget must not ride on it.
    await page.context().addCookies([{ name: 'ttlp_session', value: 'a-session-of-the-streamer', url: banner.settingsUrl }]);
    const apiAnswers: string[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/api/')) apiAnswers.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(link.url);
    const report = JSON.parse(await page.locator('#report').textContent() ?? '{}') as Record<string, string>;
    expect(report).toEqual({
      cookie: 'refused: SecurityError',
      localStorage: 'refused: SecurityError',
      fetch: 'refused: TypeError',
      fetchSettings: 'refused: TypeError',
      parent: expect.stringMatching(/^(refused: SecurityError|got: .*ttlp)/),
      otherSocket: 'refused: SocketError',
    });
    expect(apiAnswers).toEqual([]);
    // It runs in an origin of its own: nothing it does counts as the host's.
    expect(await page.evaluate('origin')).toBe('null');
  });

  it('opens with its own token only, and carries only its plugin’s channels', async () => {
    const shout = await linkOf('shout/main');
    const sneaky = await linkOf('sneaky/main');
    const tokenOf = (link: OverlayLink) => new URL(link.url).searchParams.get('token')!;
    expect(await openSocket(`/ws/overlay/shout/main?token=${tokenOf(sneaky)}`)).toEqual({ status: 403 });
    expect(await openSocket(`/ws/overlay/host/counters?token=${tokenOf(sneaky)}`)).toEqual({ status: 403 });
    expect(await openSocket(`/ws/overlay/shout/main?token=not-a-token`)).toEqual({ status: 401 });
    const opened = await openSocket(`/ws/overlay/shout/main?token=${tokenOf(shout)}`);
    expect(opened).toMatchObject({ status: 101, hello: { type: 'hello', widget: 'shout/main', channels: ['shout/main'] } });
  });

  it('that does not build answers 503 and names the error in the settings; its plugin and the other widgets go on', async () => {
    const broken = await linkOf('broken/main');
    expect(broken.buildError).toMatch(/^src\/widget\.ts:1:\d+: /);
    expect((await fetch(broken.url)).status).toBe(503);
    const debugPage = await fetch(`${broken.url}&debug=1`).then((response) => response.text());
    expect(debugPage).toContain('does not build');
    expect(((await api('GET', '/api/plugins/broken')).body as unknown as PluginView).running).toBe(true);
    expect((await fetch((await linkOf('shout/main')).url)).status).toBe(200);
  });

  it('is listed in the settings page with its size, a preview, an options form that writes its URL, and its build error', async () => {
    const page = await newPage({ width: 1440, height: 1400 });
    await page.goto(banner.settingsUrl);
    await page.getByTestId('login-token').fill(banner.adminToken!);
    await page.getByTestId('login-submit').click();
    const card = page.getByTestId('overlay-shout/main');
    await card.scrollIntoViewIfNeeded();
    await expect.poll(() => card.textContent()).toContain('1080×1920');
    await card.locator('summary', { hasText: 'Options' }).click();
    await page.getByTestId('config-field-widget-shout/main/color').fill('#ffd400');
    await page.getByTestId('config-field-widget-shout/main/size').fill('96');
    const url = page.getByTestId('overlay-url-shout/main');
    await expect.poll(() => url.textContent()).toMatch(/\?token=[^&]+&color=%23ffd400&size=96$/);
    const preview = page.getByTestId('overlay-preview-shout/main');
    // 1080×1920 scaled to fit 320 px: a portrait box.
    expect(await preview.evaluate((element) => [element.clientWidth, element.clientHeight])).toEqual([180, 320]);
    expect(await preview.locator('iframe').getAttribute('src')).toBe(await url.textContent());
    await expect.poll(() => page.getByTestId('overlay-build-error-broken/main').textContent()).toMatch(/src\/widget\.ts:1:\d+/);
  });

  it('of each running plugin is in the start banner with its URL (and its size when it is not 1920×1080)', async () => {
    await host.stop();
    const before = host.output.length;
    // The admin token is printed at the first start only.
    banner = { ...(await host.start()), adminToken: banner.adminToken };
    const printed = host.output.slice(before);
    const shout = await linkOf('shout/main');
    expect(printed).toContain(`    shout/main ${' '.repeat('top-chatter/board'.length - 'shout/main'.length)} ${shout.url}  (1080×1920)\n`);
    expect(printed).toMatch(/^ {4}top-chatter\/board {2}http:\S+\/overlay\/top-chatter\/board\?token=\S+$/m);
  });

  it('is unknown while its plugin is switched off', async () => {
    const link = await linkOf('sneaky/main');
    expect((await api('POST', '/api/plugins/sneaky/disable')).status).toBe(200);
    onTestFinished(() => enable('sneaky'));
    expect((await fetch(link.url)).status).toBe(404);
    expect(await openSocket(`/ws/overlay/sneaky/main?token=${new URL(link.url).searchParams.get('token')}`)).toEqual({ status: 404 });
    expect(((await api('GET', '/api/overlays')).body!.overlays as OverlayLink[]).map((overlay) => overlay.widget)).not.toContain('sneaky/main');
  });
});
