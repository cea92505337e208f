import { createRequire } from 'node:module';
import { flushSync } from 'svelte';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocketType from 'ws';
import type { WebSocketServer as WebSocketServerType } from 'ws';
import { waitFor } from '../../../host/test/support/patience.ts';
import { OverlayConnection, type OverlayDelivery } from './overlay-connection.svelte.ts';

// Tests here resolve packages as a browser would; ws must be its Node build.
const { WebSocket, WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');
type WebSocket = WebSocketType;

/** A stand-in for the host's overlay hub: the protocol of docs, driven by the test. */
class HubStandIn {
  readonly server: WebSocketServerType;
  epoch = 'epoch-1';
  /** The last seq per channel. */
  seqs = new Map<string, number>();
  frames: Array<Record<string, unknown>> = [];
  resumes: unknown[] = [];
  urls: string[] = [];
  clients = new Set<WebSocket>();

  /** `channels`: what the hello names, as the host's WIDGET_CHANNELS has them for the widget. */
  constructor(readonly channels: string[]) {
    this.server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    this.server.on('connection', (client, request) => {
      this.urls.push(request.url ?? '');
      this.clients.add(client);
      client.on('close', () => this.clients.delete(client));
      client.send(JSON.stringify({ type: 'hello', epoch: this.epoch, widget: 'alerts', channels: this.channels }));
      client.on('message', (raw) => {
        const resume = JSON.parse(String(raw)) as { epoch: string | null; last: Record<string, number> };
        this.resumes.push(resume);
        for (const channel of this.channels) {
          const last = resume.last[channel];
          if (resume.epoch === this.epoch && last !== undefined) {
            // Replays one frame the client already has, which it must not show twice.
            for (const frame of this.frames.filter((f) => f.channel === channel && (f.seq as number) >= last)) client.send(JSON.stringify(frame));
          } else {
            client.send(JSON.stringify({ type: 'reset', channel, seq: this.seqs.get(channel) ?? 0, state: null }));
          }
        }
      });
    });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  publish(text: string, send = true, channel = 'alerts/alerts') {
    const seq = (this.seqs.get(channel) ?? 0) + 1;
    this.seqs.set(channel, seq);
    const frame = { type: 'message', channel, seq, pluginId: channel.split('/')[0], data: { text }, eventId: `e${seq}`, at: new Date().toISOString() };
    this.frames.push(frame);
    if (send) for (const client of this.clients) client.send(JSON.stringify(frame));
  }

  restart() {
    this.epoch = 'epoch-2';
    this.seqs = new Map([['alerts/alerts', 10]]);
    this.frames = [];
    for (const client of this.clients) client.terminate();
  }
}

/** The page's location points at the hub the next connection opens. */
const pointAt = (hub: HubStandIn) =>
  Object.assign(globalThis, { WebSocket, window: { location: { protocol: 'http:', host: `127.0.0.1:${hub.port}` } } });

const listening = async (hub: HubStandIn) => {
  await new Promise((resolve) => hub.server.once('listening', resolve));
  return hub;
};

const until = (check: () => boolean) => waitFor(check, 'the connection and the stand-in hub to get there');

describe('OverlayConnection', () => {
  let hub: HubStandIn;
  let twoChannels: HubStandIn;
  beforeAll(async () => {
    hub = await listening(new HubStandIn(['alerts/alerts']));
    twoChannels = await listening(new HubStandIn(['alerts/alerts', 'rules/rules']));
  });
  afterAll(() => {
    hub.server.close();
    twoChannels.server.close();
  });

  it('resumes after drops, shows every message once, and starts over after a host restart', async () => {
    pointAt(hub);
    const connection = new OverlayConnection({ widget: 'alerts', token: 't o/k' });
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

  it('shows the frames of every channel the hello names, and of no other', async () => {
    pointAt(twoChannels);
    const connection = new OverlayConnection({ widget: 'alerts', token: 'tok' });
    const received: OverlayDelivery[] = [];
    const stop = $effect.root(() => {
      $effect(() => connection.listen((delivery) => received.push(delivery)));
    });
    flushSync();

    await until(() => received.length === 2);
    expect(received.map((delivery) => [delivery.kind, delivery.channel])).toEqual([
      ['state', 'alerts/alerts'],
      ['state', 'rules/rules'],
    ]);
    twoChannels.publish('gift', true, 'alerts/alerts');
    // A channel this widget does not show (the hub never sends one; the client drops it all the same).
    twoChannels.publish('chat line', true, 'chat/chat');
    twoChannels.publish('rule fired', true, 'rules/rules');
    await until(() => received.length === 4);
    expect(received.slice(2).map((delivery) => [delivery.channel, (delivery.data as { text: string }).text])).toEqual([
      ['alerts/alerts', 'gift'],
      ['rules/rules', 'rule fired'],
    ]);

    stop();
    await until(() => twoChannels.clients.size === 0);
  });
});
