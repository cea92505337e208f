/**
 * The settings page and the overlays in a real browser (Debian's chromium through
 * playwright-core), against `ttlp start` as a user runs it: log in, enable a plugin with its
 * permissions, send test events, watch the overlays — across a host restart. Each test opens its
 * own pages and puts back the plugins it changed, so that it runs alone or in any order.
 * With TTLP_SCREENSHOTS=<dir> the screenshots used in the README are written there.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import type { OverlayLink, PluginView } from '@ttlp/sdk/host-contract';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { HANG_MS } from '../../host/test/support/patience.ts';
import { launchChromium } from './chromium.ts';
import { freePort, HostProcess, repoRoot, type Banner } from './host-process.ts';

const SCREENSHOTS = process.env.TTLP_SCREENSHOTS ? path.resolve(repoRoot, process.env.TTLP_SCREENSHOTS) : undefined;

let browser: Browser;
let host: HostProcess;
let banner: Banner;
let adminToken: string;
let dataDir: string;
let port: number;

/** Errors every page may report: the failed login and a host restart show up as failed requests. */
const EXPECTED_PAGE_ERRORS = /401 \(Unauthorized\)|ERR_CONNECTION_REFUSED|WebSocket connection to .* failed/;

/**
 * A page for this test, closed when the test ends; any error it reported (scripts, refused by the
 * Content-Security-Policy, …) fails the test.
 */
async function newPage(viewport: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(HANG_MS);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${page.url()}: ${message.text()}`);
  });
  onTestFinished(async () => {
    await page.close();
    expect(errors.filter((error) => !EXPECTED_PAGE_ERRORS.test(error))).toEqual([]);
  });
  return page;
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'ttlp-browser-'));
  port = await freePort();
  host = new HostProcess({ port, dataDir });
  banner = await host.start();
  adminToken = banner.adminToken!;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await host?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const api = async (method: string, route: string, body?: unknown, token = adminToken) => {
  const response = await fetch(`${banner.settingsUrl.replace(/\/$/, '')}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> | null };
};

/** A synthetic event through the pipeline, as the settings page's test buttons send one (from the viewer `user` names). */
async function sendTestEvent(eventType: string, payload: Record<string, unknown>, user?: { displayName: string }): Promise<void> {
  expect((await api('POST', '/api/events/test', { eventType, payload, ...(user ? { user } : {}) })).status).toBe(202);
}

async function pluginView(id: string): Promise<PluginView> {
  const { status, body } = await api('GET', `/api/plugins/${id}`);
  expect(status).toBe(200);
  return body as unknown as PluginView;
}

/** Puts the plugin back as it is now (on or off, its settings) when the test ends: no test sees what another changed. */
async function restorePluginAtTestEnd(id: string): Promise<PluginView> {
  const before = await pluginView(id);
  onTestFinished(async () => {
    const now = await pluginView(id);
    if (now.enabled && !before.enabled) expect((await api('POST', `/api/plugins/${id}/disable`)).status).toBe(200);
    if (!isDeepStrictEqual(now.config, before.config)) expect((await api('PUT', `/api/plugins/${id}/config`, { config: before.config })).status).toBe(200);
    if (before.enabled && !now.enabled) expect((await api('POST', `/api/plugins/${id}/enable`)).status).toBe(200);
  });
  return before;
}

/** Enables the plugin with every permission it asks for, for this test. */
async function enablePlugin(id: string): Promise<void> {
  const { requestedPermissions } = await restorePluginAtTestEnd(id);
  expect((await api('POST', `/api/plugins/${id}/enable`, { grant: requestedPermissions })).status).toBe(200);
}

/** The settings page, logged in with the admin token. */
async function openSettings(): Promise<Page> {
  const page = await newPage({ width: 1440, height: 1000 });
  await page.goto(banner.settingsUrl);
  await page.getByTestId('login-token').fill(adminToken);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('logout').waitFor();
  return page;
}

/** The URL of a widget (`<pluginId>/<widgetId>`) of the host or a running plugin, as the settings page lists it. */
async function widgetUrl(widget: string): Promise<string> {
  const { body } = await api('GET', '/api/overlays');
  const link = (body!.overlays as OverlayLink[]).find((candidate) => candidate.widget === widget);
  expect(link, `${widget} in /api/overlays`).toBeDefined();
  return link!.url;
}

/** A widget page at 1920×1080 (at `url`, else the widget's own) that records every overlay frame it receives, across reconnects. */
async function openOverlay(widget: string, url?: string): Promise<{ page: Page; frames: Array<Record<string, unknown>> }> {
  const page = await newPage({ width: 1920, height: 1080 });
  const frames: Array<Record<string, unknown>> = [];
  page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(JSON.parse(String(frame.payload)) as Record<string, unknown>)));
  await page.goto(url ?? (await widgetUrl(widget)));
  await expect.poll(() => frames.some((frame) => frame.type === 'hello')).toBe(true);
  return { page, frames };
}

const giftFrames = (frames: Array<Record<string, unknown>>, giftName: string) =>
  frames.filter((frame) => frame.type === 'message' && (frame.data as { giftName?: string }).giftName === giftName);

/** Alpha of the screenshot's pixels at the given points, read back in the browser (a canvas decodes the PNG). */
async function alphaAt(page: Page, png: Buffer, points: Array<[number, number]>): Promise<number[]> {
  const script = `(async () => {
    const image = new Image();
    image.src = 'data:image/png;base64,${png.toString('base64')}';
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    return ${JSON.stringify(points)}.map(([x, y]) => context.getImageData(x, y, 1, 1).data[3]);
  })()`;
  return page.evaluate(script) as Promise<number[]>;
}

/** Writes a screenshot for the README (when asked to): an overlay cut to its widget, with some margin. */
async function screenshot(page: Page, name: string, widget?: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Taken at rest: not mid-way through a bar filling up or a reached goal's celebration.
  await expect.poll(() => page.evaluate('document.getAnimations().length')).toBe(0);
  const box = widget ? await page.getByTestId(widget).boundingBox() : null;
  const margin = 24;
  const clip = box
    ? { x: Math.max(0, box.x - margin), y: Math.max(0, box.y - margin), width: box.width + 2 * margin, height: box.height + 2 * margin }
    : undefined;
  await page.screenshot({ path: path.join(SCREENSHOTS, name), omitBackground: true, clip });
}

describe('the settings page and overlays in a browser', () => {
  it('builds pages whose scripts carry no schema library and no Node module', () => {
    // The pages take only types from the host contract; its TypeBox schemas (and the host's Ajv) stay out.
    const assets = path.join(repoRoot, 'overlays/dist/assets');
    const scripts = readdirSync(assets).filter((file) => file.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    for (const file of scripts) {
      const text = readFileSync(path.join(assets, file), 'utf8');
      expect([file, /~kind|ajv implementation error|\bnode:[a-z]/.exec(text)?.[0] ?? null]).toEqual([file, null]);
    }
  });

  it('logs in with the admin token and enables the alerts plugin, granting its permissions', async () => {
    await restorePluginAtTestEnd('alerts');
    // The switch enables only from off.
    expect((await api('POST', '/api/plugins/alerts/disable')).status).toBe(200);
    const settings = await newPage({ width: 1440, height: 1000 });
    await settings.goto(banner.settingsUrl);
    await settings.getByTestId('login-token').fill('not the token');
    await settings.getByTestId('login-submit').click();
    await expect.poll(() => settings.getByTestId('login-error').textContent()).toMatch(/invalid/i);
    await settings.getByTestId('login-token').fill(adminToken);
    await settings.getByTestId('login-submit').click();
    await settings.getByTestId('plugin-toggle-alerts').click();
    const dialog = settings.getByTestId('permission-dialog');
    await expect.poll(() => dialog.textContent()).toContain('GIFT');
    // Under the permissions, the limits it runs within (the host's defaults here).
    expect(await settings.getByTestId('quota-list').locator('li').allTextContents()).toEqual([
      'Up to 64 MB of memory',
      '500 ms of CPU time per second',
      '50 overlay messages per event, 50 per second',
      '5,000 stored keys, 8 MB in all',
      '20 log lines (32 KB) per second',
      '1,200 web requests per minute',
      '64 timers at once',
    ]);
    const enabling = settings.waitForRequest((request) => request.url().endsWith('/api/plugins/alerts/enable'));
    await settings.getByTestId('grant-enable').click();
    // The dialog's own grants: the host keeps a grant once given, so the plugin's list could hold another test's.
    expect((await enabling).postDataJSON()).toMatchObject({ grant: expect.arrayContaining(['events:GIFT', 'overlay:alerts']) });
    await expect.poll(() => settings.getByTestId('plugin-state-alerts').textContent()).toBe('running');
    const plugin = await api('GET', '/api/plugins/alerts');
    expect(plugin.body).toMatchObject({ enabled: true, running: true });
    expect(plugin.body!.grantedPermissions).toEqual(expect.arrayContaining(['events:GIFT', 'overlay:alerts']));
  });

  it('shows a test gift on the alerts overlay: opaque where the alert is, transparent elsewhere', async () => {
    await enablePlugin('alerts');
    const settings = await openSettings();
    const alerts = await openOverlay('alerts/alerts');
    await settings.getByTestId('test-gift-name').fill('Rose');
    await settings.getByTestId('test-event-GIFT').click();
    const alert = alerts.page.getByTestId('alert');
    await expect.poll(() => alert.textContent()).toContain('Rose');
    const box = (await alert.boundingBox())!;
    const png = await alerts.page.screenshot({ omitBackground: true });
    const inside: Array<[number, number]> = [
      [Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2)],
      [Math.round(box.x + 8), Math.round(box.y + box.height / 2)],
    ];
    const outside: Array<[number, number]> = [
      [5, 5],
      [1915, 1075],
      [960, 1070],
      [box.x > 400 ? 100 : 1800, 540],
    ];
    expect(await alphaAt(alerts.page, png, inside)).toEqual([255, 255]);
    expect(await alphaAt(alerts.page, png, outside)).toEqual([0, 0, 0, 0]);
    await screenshot(alerts.page, 'overlay-alerts.png', 'alert');
    expect(giftFrames(alerts.frames, 'Rose')).toHaveLength(1);
  });

  it('after a host restart, with the overlay page left open, shows the next gift exactly once', async () => {
    await enablePlugin('alerts');
    const alerts = await openOverlay('alerts/alerts');
    await sendTestEvent('GIFT', { giftName: 'Doughnut', giftCount: 1, coins: 30 });
    await expect.poll(() => giftFrames(alerts.frames, 'Doughnut').length).toBe(1);
    // Whatever fails below, the next test finds the host running.
    onTestFinished(async () => {
      if (!host.running) banner = { ...(await host.start()), adminToken };
    });
    expect(await host.stop()).toBe(0);
    banner = { ...(await host.start()), adminToken };
    // The page reconnects by itself (new epoch) and is then sent the next gift.
    await expect.poll(() => alerts.frames.filter((frame) => frame.type === 'hello').length).toBe(2);
    await sendTestEvent('GIFT', { giftName: 'Lion', giftCount: 1, coins: 29999 });
    await expect.poll(() => alerts.page.getByTestId('alert').textContent()).toContain('Lion');
    // Frames come in order: a second Lion, live or caught up, would come before a later gift.
    await sendTestEvent('GIFT', { giftName: 'Finger Heart', giftCount: 1, coins: 5 });
    await expect.poll(() => giftFrames(alerts.frames, 'Finger Heart').length).toBe(1);
    expect(giftFrames(alerts.frames, 'Lion')).toHaveLength(1);
    // Nothing from before the restart was replayed.
    expect(giftFrames(alerts.frames, 'Doughnut')).toHaveLength(1);
  });

  it('keeps an alerts URL from before widgets were their plugins’ working: it shows the next gift', async () => {
    await enablePlugin('alerts');
    // The URL streamers have in OBS: the widget's one-segment name and its token.
    const token = new URL(await widgetUrl('alerts/alerts')).searchParams.get('token')!;
    const alerts = await openOverlay('alerts/alerts', `${banner.settingsUrl}overlay/alerts?token=${encodeURIComponent(token)}&giftMs=4000`);
    expect(new URL(alerts.page.url()).pathname).toBe('/overlay/alerts/alerts');
    expect(new URL(alerts.page.url()).searchParams.get('giftMs')).toBe('4000');
    await sendTestEvent('GIFT', { giftName: 'Panda', giftCount: 1, coins: 5 });
    await expect.poll(() => alerts.page.getByTestId('alert').textContent()).toContain('Panda');
  });

  it("shows the rules plugin's overlay actions in its Rule messages widget", async () => {
    const rule = {
      id: 'hype',
      name: 'Hype in the chat',
      events: ['CHAT'],
      condition: { in: ['!hype', { var: 'payload.message' }] },
      actions: [{ type: 'overlay', channel: 'rules', template: '{user.displayName} started the hype!' }],
    };
    const { requestedPermissions } = await restorePluginAtTestEnd('rules');
    expect((await api('PUT', '/api/plugins/rules/config', { config: { rules: [rule] } })).status).toBe(200);
    expect((await api('POST', '/api/plugins/rules/enable', { grant: requestedPermissions })).status).toBe(200);
    const messages = await openOverlay('rules/messages');
    expect(messages.frames.find((frame) => frame.type === 'hello')).toMatchObject({ widget: 'rules/messages', channels: ['rules/rules'] });
    await sendTestEvent('CHAT', { message: 'let us go !hype' });
    await expect.poll(() => messages.page.locator('.rule-message').textContent()).toBe('Test Viewer started the hype!');
    expect(messages.frames.filter((frame) => frame.type === 'message' && frame.channel === 'rules/rules')).toHaveLength(1);
  });

  it('builds "thank a Rose on stream" with the settings page’s forms alone, and shows it for a Rose only', async () => {
    await restorePluginAtTestEnd('rules');
    expect((await api('POST', '/api/plugins/rules/disable')).status).toBe(200);
    const settings = await openSettings();
    await settings.getByTestId('plugin-toggle-rules').click();
    await settings.getByTestId('grant-enable').click();
    await expect.poll(() => settings.getByTestId('plugin-state-rules').textContent()).toBe('running');
    await settings.getByTestId('plugin-configure-rules').click();
    const field = (path: string) => settings.getByTestId(`config-field-rules/rules${path}`);
    await field('/add').click();
    await field('/0/id').fill('rose');
    await field('/0/name').fill('Thank a Rose');
    await field('/0/trigger').selectOption({ label: 'gift' });
    await field('/0/giftName').fill('Rose');
    await field('/0/actions/add').click();
    // The first kind of action, a message on a widget, is there to fill in.
    /** The label of the option a select shows. */
    const shown = async (path: string) => field(path).locator(`option[value="${await field(path).inputValue()}"]`).textContent();
    expect([await shown('/0/actions/0/type'), await shown('/0/actions/0/channel'), await shown('/0/trigger')]).toEqual(['Show a message on a widget', 'rules', 'gift']);
    await field('/0/actions/0/template').fill('Thanks for the Rose, {user.displayName}!');
    await settings.getByTestId('config-save-rules').click();
    await expect.poll(() => settings.getByTestId('config-saved-rules').textContent()).toMatch(/saved/i);
    await screenshot(settings, 'settings-rule-form.png', 'config-form-rules');

    const messages = await openOverlay('rules/messages');
    await sendTestEvent('GIFT', { giftName: 'Lion' }, { displayName: 'Bo' });
    await sendTestEvent('GIFT', { giftName: 'Rose' }, { displayName: 'Ada' });
    await expect.poll(() => messages.page.locator('.rule-message').textContent()).toBe('Thanks for the Rose, Ada!');
    expect(messages.frames.filter((frame) => frame.type === 'message')).toHaveLength(1);
  });

  it('lists the widgets of the host and of every enabled plugin, and says which options of a pasted URL a widget ignores', async () => {
    await enablePlugin('alerts');
    const settings = await openSettings();
    const card = settings.getByTestId('overlay-alerts/alerts');
    await expect.poll(() => card.locator('h3').textContent()).toBe('Alerts');
    expect(await settings.getByTestId('overlay-host/counters').locator('h3').textContent()).toBe('Counters');
    await card.locator('summary', { hasText: 'Check a URL' }).click();
    const url = await widgetUrl('alerts/alerts');
    await settings.getByTestId('url-check-input-alerts/alerts').fill(`${url}&fontSize=900&position=top-right&sparkles=1`);
    await settings.getByTestId('url-check-alerts/alerts').click();
    const result = settings.getByTestId('url-check-result-alerts/alerts');
    await expect.poll(() => result.locator('li').allTextContents()).toEqual(['fontSize: /fontSize must be <= 200', 'sparkles: the widget has no such option']);
    await settings.getByTestId('url-check-input-alerts/alerts').fill(`${url}&position=top-right`);
    await settings.getByTestId('url-check-alerts/alerts').click();
    await expect.poll(() => result.textContent()).toContain('uses every option');
  });

  it('refuses an overlay token on admin routes', async () => {
    const overlayToken = new URL(banner.overlays['host/counters']!).searchParams.get('token')!;
    const refused = await api('GET', '/api/plugins', undefined, overlayToken);
    expect(refused).toMatchObject({ status: 403, body: { code: 'AUTH_FORBIDDEN' } });
    const anonymous = await fetch(`${banner.settingsUrl}api/plugins`);
    expect(anonymous.status).toBe(401);
  });

  it('shows chat text as text, never as HTML', async () => {
    await enablePlugin('chat');
    const chat = await openOverlay('chat/chat');
    const dialogs: string[] = [];
    chat.page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const hostile = '<img src=x onerror=alert(1)>';
    await sendTestEvent('CHAT', { message: hostile });
    await expect.poll(() => chat.page.getByTestId('chat').textContent()).toContain(hostile);
    expect(await chat.page.locator('[data-testid="chat"] img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await screenshot(chat.page, 'overlay-chat.png', 'chat');
  });

  it('shows goals, leaderboard and counters (screenshots for the README)', async () => {
    // The plugins the settings page's screenshot shows running.
    for (const id of ['alerts', 'chat', 'goals', 'leaderboard']) await enablePlugin(id);
    const pages = { goals: await openOverlay('goals/goals'), leaderboard: await openOverlay('leaderboard/leaderboard'), counters: await openOverlay('host/counters') };
    for (const [eventType, payload] of [
      ['LIKE', { likeCount: 250, totalLikeCount: 4200 }],
      ['FOLLOW', {}],
      ['GIFT', { giftName: 'Galaxy', giftCount: 1, coins: 1000 }],
      ['JOIN', { viewerCount: 321 }],
    ] as const) {
      await sendTestEvent(eventType, payload);
    }
    await expect.poll(() => pages.leaderboard.page.getByTestId('leaderboard').textContent()).toContain('Test Viewer');
    await expect.poll(() => pages.counters.page.getByTestId('counters').textContent()).toContain('4');
    await expect.poll(() => pages.goals.page.getByTestId('goals').textContent()).toMatch(/\d/);
    for (const [widget, { page }] of Object.entries(pages)) await screenshot(page, `overlay-${widget}.png`, widget);
    const settings = await openSettings();
    await expect.poll(() => settings.getByTestId('plugin-state-chat').textContent()).toBe('running');
    // The live feed shows what arrives while the page is connected.
    await expect.poll(async () => (await settings.getByTestId('live-feed-status').textContent())?.trim()).toBe('connected');
    for (const message of ['hello!', 'love this stream', '!song next']) await sendTestEvent('CHAT', { message });
    await sendTestEvent('GIFT', { giftName: 'Rose', giftCount: 5, coins: 5 });
    await expect.poll(() => settings.getByTestId('live-feed-row').count()).toBeGreaterThanOrEqual(4);
    await screenshot(settings, 'settings.png');
  });
});

const VIEWPORTS = { landscape: { width: 1920, height: 1080 }, portrait: { width: 1080, height: 1920 } };

/**
 * An overlay page whose socket the test answers instead of the host, as the hub greets a new
 * page: a hello, then each channel's state. For how a widget looks in a state the plugins would
 * need many events to reach.
 */
async function openOverlayShowing(
  widget: string,
  viewport: { width: number; height: number },
  states: Record<string, unknown>,
  query = '',
): Promise<Page> {
  const page = await newPage(viewport);
  await page.routeWebSocket(/\/ws\/overlay\//, (socket) => {
    socket.send(JSON.stringify({ type: 'hello', epoch: 'stand-in', widget, channels: Object.keys(states) }));
    for (const [channel, state] of Object.entries(states)) socket.send(JSON.stringify({ type: 'reset', channel, seq: 1, state }));
  });
  // The widget's page (its plugin runs) with a socket that never reaches the host.
  await page.goto((await widgetUrl(widget)) + query);
  return page;
}

type Box = { x: number; y: number; width: number; height: number };
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x - 0.5 && inner.y >= outer.y - 0.5 && inner.x + inner.width <= outer.x + outer.width + 0.5 && inner.y + inner.height <= outer.y + outer.height + 0.5;

/** One sampled frame of the chat: the box of each line on screen, top to bottom in page order. */
type ChatFrame = Array<{ text: string; top: number; bottom: number; moving: boolean }>;

/**
 * Records the chat's line boxes (as drawn, transforms included) on every animation frame until
 * `stopChatSampler` is called.
 */
async function startChatSampler(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    const frames = [];
    window.__chatFrames = frames;
    window.__chatSampling = true;
    const sample = () => {
      frames.push([...document.querySelectorAll('[data-testid="chat"] .line')].map((line) => {
        const box = line.getBoundingClientRect();
        return { text: line.querySelector('.text').textContent, top: box.top, bottom: box.bottom, moving: line.getAnimations().length > 0 };
      }));
      if (window.__chatSampling) requestAnimationFrame(sample);
    };
    requestAnimationFrame(sample);
  })()`);
}

async function stopChatSampler(page: Page): Promise<ChatFrame[]> {
  return page.evaluate('(() => { window.__chatSampling = false; return window.__chatFrames; })()') as Promise<ChatFrame[]>;
}

/** Every pair of lines in a frame where the upper one reaches into the one below it (by more than rounding). */
function chatOverlaps(frames: ChatFrame[]): string[] {
  const found: string[] = [];
  frames.forEach((frame, index) => {
    frame.forEach((upper, i) => {
      for (const lower of frame.slice(i + 1)) {
        const overlap = upper.bottom - lower.top;
        if (overlap > 0.5) found.push(`frame ${index}: "${upper.text}" over "${lower.text}" by ${overlap.toFixed(1)} px`);
      }
    });
  });
  return found;
}

describe('the widgets as a streamer sees them', () => {
  it('shows a big gift next, before the minute of small alerts queued ahead of it, with its coins and an entrance of its own', async () => {
    await enablePlugin('alerts');
    const page = await newPage({ width: 1920, height: 1080 });
    // Which alerts came on, in order, and how many had when the Lion's message reached the page
    // (recorded before the widget reads the message).
    await page.addInitScript(`(() => {
      window.__shown = [];
      new MutationObserver(() => {
        const alert = document.querySelector('[data-testid="alert"]');
        if (alert && window.__shown.at(-1)?.id !== alert.dataset.alertId) window.__shown.push({ id: alert.dataset.alertId, text: alert.textContent });
      }).observe(document, { subtree: true, childList: true });
      const Socket = window.WebSocket;
      window.WebSocket = class extends Socket {
        constructor(...args) {
          super(...args);
          this.addEventListener('message', (event) => {
            if (String(event.data).includes('"giftName":"Lion"')) window.__shownBeforeLion = window.__shown.length;
          });
        }
      };
    })()`);
    const frames: Array<Record<string, unknown>> = [];
    page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(JSON.parse(String(frame.payload)) as Record<string, unknown>)));
    await page.goto(`${await widgetUrl('alerts/alerts')}&giftMs=4000`);
    // Fifteen Roses from fifteen viewers: a minute of alerts at 4 s each.
    for (let n = 1; n <= 15; n += 1) await sendTestEvent('GIFT', { giftName: 'Rose' }, { displayName: `Rose fan ${n}` });
    await expect.poll(() => giftFrames(frames, 'Rose').length).toBe(15);
    await sendTestEvent('GIFT', { giftName: 'Lion' }, { displayName: 'Big Spender' });
    const alert = page.getByTestId('alert');
    await expect.poll(() => alert.textContent()).toContain('Big Spender sent Lion');
    const shown = (await page.evaluate('window.__shown')) as Array<{ id: string; text: string }>;
    const before = (await page.evaluate('window.__shownBeforeLion')) as number;
    // The Lion came on right after the Rose on screen when it arrived; the other Roses wait.
    expect(shown.findIndex((entry) => entry.text.includes('Lion'))).toBe(before);
    expect(before).toBeLessThan(15);
    expect(await page.getByTestId('alert-coins').textContent()).toContain('29,999');
    expect(await alert.getAttribute('class')).toMatch(/\bbig\b/);
    await screenshot(page, 'overlay-alerts-big-gift.png', 'alert');
  });

  it('never draws one chat line over another while lines slide in and out', async () => {
    await enablePlugin('chat');
    const chat = await openOverlay('chat/chat');
    // Animations at a tenth of their speed: arrivals come while earlier lines still move, and
    // frames land mid-motion however busy the machine is.
    const devtools = await chat.page.context().newCDPSession(chat.page);
    await devtools.send('Animation.enable');
    await devtools.send('Animation.setPlaybackRate', { playbackRate: 0.1 });
    await startChatSampler(chat.page);
    const texts = [
      'first!',
      'this is a longer message that wraps onto a second line of the chat box, maybe even a third one',
      'hi',
      'where are you streaming from today?',
      'ok',
      'another long one: the quick brown fox jumps over the lazy dog while the chat keeps on scrolling by',
      'lol',
      'gg',
      'what game is next?',
      'love this',
      'a third long message to push the oldest lines out of the box while the new ones are still sliding in',
      'bye',
    ];
    for (const [index, text] of texts.entries()) {
      const message = `${index + 1}. ${text}`;
      await sendTestEvent('CHAT', { message });
      await expect.poll(() => chat.page.getByTestId('chat').textContent()).toContain(message);
    }
    // Until every line has settled: the outgoing ones are gone and the last one is in place.
    await expect.poll(() => chat.page.evaluate('document.getAnimations().length')).toBe(0);
    const frames = await stopChatSampler(chat.page);
    // The frames saw lines move, and the first line come and then leave (pushed out by the later ones).
    expect(frames.filter((frame) => frame.some((line) => line.moving)).length).toBeGreaterThan(10);
    const showsFirst = (frame: ChatFrame) => frame.some((line) => line.text === `1. ${texts[0]}`);
    expect([frames.some(showsFirst), showsFirst(frames.at(-1)!)]).toEqual([true, false]);
    expect(chatOverlaps(frames)).toEqual([]);
  });

  it('shows a reached goal as done: a full bar, a Done label and the real count', async () => {
    await enablePlugin('goals');
    const goals = [
      { id: 'likes', kind: 'likes', title: 'Likes', current: 2001, target: 1000, percent: 100, reached: true },
      { id: 'follows', kind: 'follows', title: 'New followers', current: 1, target: 50, percent: 2, reached: false },
      { id: 'camera', kind: 'coins', title: 'A new camera for the stream, and a light to go with it', current: 12_000, target: 12_000, percent: 100, reached: true },
    ];
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const page = await openOverlayShowing('goals/goals', viewport, { 'goals/goals': { goals } });
      const goal = (id: string) => page.locator(`[data-goal-id="${id}"]`);
      await expect.poll(() => goal('likes').locator('.numbers').textContent()).toBe('2,001');
      expect(await goal('camera').locator('.numbers').textContent()).toBe('12,000');
      expect(await goal('follows').locator('.numbers').textContent()).toBe('1 / 50');
      expect([await goal('likes').getByTestId('goal-done').textContent(), await goal('follows').getByTestId('goal-done').count()]).toEqual(['Done', 0]);
      for (const id of ['likes', 'camera']) {
        // The bar grows to full (it moves to its width), and nothing in the heading runs into anything else.
        const track = (await goal(id).locator('.track').boundingBox())!;
        await expect.poll(async () => (await goal(id).locator('.fill').boundingBox())!.width).toBeCloseTo(track.width, 0);
        const box = (await goal(id).boundingBox())!;
        const parts = await Promise.all(['.title', '[data-testid="goal-done"]', '.numbers'].map(async (part) => (await goal(id).locator(part).boundingBox())!));
        expect(parts.map((part) => inside(part, box))).toEqual([true, true, true]);
        expect([overlaps(parts[0]!, parts[1]!), overlaps(parts[1]!, parts[2]!)]).toEqual([false, false]);
      }
      await screenshot(page, `overlay-goals-done-${name}.png`, 'goals');
    }
  });

  it('puts the singular noun after a count of one on the leaderboard and the counters', async () => {
    await enablePlugin('leaderboard');
    const board = {
      gifters: [
        { userId: '2', uniqueId: 'bob', displayName: 'Bob', coins: 1500 },
        { userId: '1', uniqueId: 'alice', displayName: 'Alice', coins: 1 },
      ],
      likers: [
        { userId: '2', uniqueId: 'bob', displayName: 'Bob', likes: 2 },
        { userId: '1', uniqueId: 'alice', displayName: 'Alice', likes: 1 },
      ],
    };
    const counters = { sessionId: 's', likes: 1, viewers: 1, follows: 2, shares: 0, coins: 1000 };
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const leaderboard = await openOverlayShowing('leaderboard/leaderboard', viewport, { 'leaderboard/leaderboard': board });
      const values = (list: string) => leaderboard.locator(`[data-list="${list}"] .value`).allTextContents();
      await expect.poll(() => values('gifters')).toEqual(['1,500 coins', '1 coin']);
      expect(await values('likers')).toEqual(['2 likes', '1 like']);
      await screenshot(leaderboard, `overlay-leaderboard-nouns-${name}.png`, 'leaderboard');
      const page = await openOverlayShowing('host/counters', viewport, { 'host/counters': counters }, '&show=likes,viewers,follows,shares,coins');
      await expect
        .poll(async () => (await page.locator('[data-counter]').allTextContents()).map((text) => text.replace(/\s+/g, ' ').trim()))
        .toEqual(['♥ 1 Like', '● 1 Viewer', '+ 2 Follows', '↗ 0 Shares', '◆ 1,000 Coins']);
      await screenshot(page, `overlay-counters-nouns-${name}.png`, 'counters');
    }
  });

  it('keeps every counter on the canvas, wrapping a row too wide for it', async () => {
    const counters = { sessionId: 's', likes: 1_234_567, viewers: 12_345, follows: 1234, shares: 567, coins: 98_765 };
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const page = await openOverlayShowing('host/counters', viewport, { 'host/counters': counters }, '&show=likes,viewers,follows,shares,coins');
      await expect.poll(() => page.locator('[data-counter]').count()).toBe(5);
      const boxes = await Promise.all((await page.locator('[data-counter]').all()).map(async (counter) => (await counter.boundingBox())!));
      const canvas = { x: 0, y: 0, ...viewport };
      expect(boxes.map((box) => inside(box, canvas))).toEqual([true, true, true, true, true]);
      await screenshot(page, `overlay-counters-wide-${name}.png`, 'counters');
    }
  });
});
