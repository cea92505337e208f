import { createRequire } from 'node:module';
import { flushSync } from 'svelte';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocketType from 'ws';
import type { WebSocketServer as WebSocketServerType } from 'ws';
import { OverlayConnection, type OverlayDelivery } from './overlay-connection.svelte.ts';

// Tests here resolve packages as a browser would; ws must be its Node build.
const { WebSocket, WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');
type WebSocket = WebSocketType;

/** A stand-in for the host's overlay hub: the protocol of docs, driven by the test. */
class HubStandIn {
  readonly server: WebSocketServerType;
  epoch = 'epoch-1';
  seq = 0;
  frames: Array<Record<string, unknown>> = [];
  resumes: unknown[] = [];
  urls: string[] = [];
  clients = new Set<WebSocket>();

  constructor() {
    this.server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    this.server.on('connection', (client, request) => {
      this.urls.push(request.url ?? '');
      this.clients.add(client);
      client.on('close', () => this.clients.delete(client));
      client.send(JSON.stringify({ type: 'hello', epoch: this.epoch, widget: 'alerts', channels: ['alerts/alerts'] }));
      client.on('message', (raw) => {
        const resume = JSON.parse(String(raw)) as { epoch: string | null; last: Record<string, number> };
        this.resumes.push(resume);
        const last = resume.last['alerts/alerts'];
        if (resume.epoch === this.epoch && last !== undefined) {
          // Replays one frame the client already has, which it must not show twice.
          for (const frame of this.frames.filter((f) => (f.seq as number) >= last)) client.send(JSON.stringify(frame));
        } else {
          client.send(JSON.stringify({ type: 'reset', channel: 'alerts/alerts', seq: this.seq, state: null }));
        }
      });
    });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  publish(text: string, send = true) {
    this.seq += 1;
    const frame = { type: 'message', channel: 'alerts/alerts', seq: this.seq, pluginId: 'alerts', data: { text }, eventId: `e${this.seq}`, at: new Date().toISOString() };
    this.frames.push(frame);
    if (send) for (const client of this.clients) client.send(JSON.stringify(frame));
  }

  restart() {
    this.epoch = 'epoch-2';
    this.seq = 10;
    this.frames = [];
    for (const client of this.clients) client.terminate();
  }
}

const until = async (check: () => boolean, ms = 8000) => {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('OverlayConnection', () => {
  let hub: HubStandIn;
  beforeAll(async () => {
    hub = new HubStandIn();
    await new Promise((resolve) => hub.server.once('listening', resolve));
    Object.assign(globalThis, { WebSocket, window: { location: { protocol: 'http:', host: `127.0.0.1:${hub.port}` } } });
  });
  afterAll(() => hub.server.close());

  it('resumes after drops, shows every message once, and starts over after a host restart', async () => {
    const connection = new OverlayConnection({ widget: 'alerts', channel: 'alerts/alerts', token: 't o/k' });
    const received: OverlayDelivery[] = [];
    const texts = () => received.flatMap((d) => (d.kind === 'message' ? [(d.data as { text: string }).text] : []));
    const stop = $effect.root(() => {
      $effect(() => connection.listen((delivery) => received.push(delivery)));
    });
    flushSync();

    await until(() => hub.resumes.length === 1 && received.length === 1);
    expect(hub.urls[0]).toBe('/ws/overlay/alerts?token=t%20o%2Fk');
    expect(hub.resumes[0]).toEqual({ type: 'resume', epoch: null, last: {} });
    expect(received[0]).toMatchObject({ kind: 'state', data: null, reset: true });
    expect(connection.status).toBe('open');

    hub.publish('one');
    hub.publish('two');
    await until(() => texts().length === 2);

    // Dropped as too slow; what is published meanwhile comes with the resume.
    for (const client of hub.clients) client.close(4008, 'too slow');
    await until(() => hub.clients.size === 0);
    hub.publish('three', false);
    hub.publish('four', false);
    await until(() => texts().length === 4);
    expect(hub.resumes[1]).toEqual({ type: 'resume', epoch: 'epoch-1', last: { 'alerts/alerts': 2 } });
    expect(texts()).toEqual(['one', 'two', 'three', 'four']);

    hub.restart();
    await until(() => hub.resumes.length === 3 && received.length === 6);
    expect(hub.resumes[2]).toEqual({ type: 'resume', epoch: 'epoch-1', last: { 'alerts/alerts': 4 } });
    expect(received[5]).toMatchObject({ kind: 'state', reset: true });
    hub.publish('eleven');
    await until(() => texts().length === 5);
    expect(texts()).toEqual(['one', 'two', 'three', 'four', 'eleven']);

    stop();
    await until(() => hub.clients.size === 0);
    expect(connection.status).toBe('idle');
  });
});
