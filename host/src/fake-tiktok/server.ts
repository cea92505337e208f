/**
 * A local fake of the TikTok endpoints tiktok-live-connector talks to — the room page, the
 * room info API, the sign server's connect endpoint and the webcast WebSocket — playing a
 * capture to the real, unmodified connector as gzip protobuf push frames. It answers
 * heartbeats and acks, and simulates what the live provider must survive: a user offline,
 * a sign rate limit, an abrupt socket drop and the end of the stream (D-034).
 *
 * Every user name asked for gets its own room playing the capture from the start; the first
 * room has the capture's own room id, so its stream id matches the messages.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { captureRoomId, inRound, type CapturedMessage } from './broadcast.ts';
import { controlFrame, fetchResult, messageFrame, readClientFrame, streamEndMessage, type OutgoingMessage } from './frames.ts';

export interface FakeTikTokOptions {
  messages: readonly CapturedMessage[];
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Pace by the capture's timing, N times as fast; undefined = as fast as possible. */
  speed?: number;
  /** Start over when the capture ends (with new message ids) instead of ending the stream. */
  loop?: boolean;
  /** Most messages per push frame. Default 20. */
  batchSize?: number;
  /** Rooms start offline and go live this many ms after the fake starts. */
  offlineForMs?: number;
  /** Drop each room's socket abruptly (once) after this many messages. */
  dropAfter?: number;
  /** Progress lines for a person watching. */
  log?: (line: string) => void;
}

export const PUSH_PATH = '/webcast/im/push/v2/';
const SIGN_PATH = /^\/webcast\/rooms\/([0-9]{1,20})\/connect$/;
const LIVE = 2;
const OFFLINE = 4;
/** How long a stream end waits for the client to close before closing the socket itself. */
const END_CLOSE_GRACE_MS = 2_000;
const ACK_WAIT_MS = 2_000;

export interface FakeStats {
  signRequests: number;
  rateLimited: number;
  connections: number;
  heartbeats: number;
  acks: number;
}

class Room {
  live: boolean;
  position = 0;
  round = 0;
  sent = 0;
  dropped = false;
  pumping = false;
  readonly listeners = new Set<WebSocket>();
  /** Frames sent and not yet acknowledged, by log id. */
  private readonly unacked = new Map<string, { acked: Promise<void>; resolve: () => void }>();

  constructor(
    readonly user: string,
    readonly roomId: string,
    live: boolean,
  ) {
    this.live = live;
  }

  /** The room status TikTok's APIs report. */
  get status(): number {
    return this.live ? LIVE : OFFLINE;
  }

  /** Remembers a frame sent that the client is asked to acknowledge. */
  expectAck(logId: string): void {
    let resolve!: () => void;
    const acked = new Promise<void>((done) => (resolve = done));
    this.unacked.set(logId, { acked, resolve });
  }

  acknowledge(logId: string): void {
    this.unacked.get(logId)?.resolve();
    this.unacked.delete(logId);
  }

  /** Resolves when every frame sent so far is acknowledged (or nobody is left to), at most after `timeoutMs`. */
  async allAcked(timeoutMs: number): Promise<void> {
    if (this.listeners.size === 0) this.unacked.clear();
    if (this.unacked.size === 0) return;
    await Promise.race([Promise.all([...this.unacked.values()].map((entry) => entry.acked)), delay(timeoutMs)]);
  }

}

export class FakeTikTok {
  readonly stats: FakeStats = { signRequests: 0, rateLimited: 0, connections: 0, heartbeats: 0, acks: 0 };
  private readonly rooms = new Map<string, Room>();
  private readonly sockets = new WebSocketServer({ noServer: true });
  private readonly captureRoom: string | undefined;
  private rateLimit = { remaining: 0, retryAfterSeconds: 0 };
  private liveAt: number;
  private nextLogId = 1;
  private closed = false;

  private constructor(
    private readonly options: FakeTikTokOptions,
    private readonly server: Server,
  ) {
    if (options.messages.length === 0) throw new RangeError('the fake needs at least one message to play');
    if (options.speed !== undefined && !(options.speed > 0)) throw new RangeError('speed must be a positive number');
    this.captureRoom = captureRoomId(options.messages);
    this.liveAt = Date.now() + (options.offlineForMs ?? 0);
  }

  static async start(options: FakeTikTokOptions): Promise<FakeTikTok> {
    const server = createServer();
    const fake = new FakeTikTok(options, server);
    server.on('request', (request, response) => fake.handle(request, response));
    server.on('upgrade', (request, socket, head) => fake.upgrade(request, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    return fake;
  }

  /** Base URL of the fake: give it to `ttlp start --tiktok-url`. */
  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** The room of a user, created (offline until the start delay has passed) on first mention. */
  room(user: string): Room {
    const key = user.replace(/^@/, '').toLowerCase();
    let room = this.rooms.get(key);
    if (!room) {
      const roomId = this.rooms.size === 0 && this.captureRoom ? this.captureRoom : derivedRoomId(key);
      room = new Room(key, roomId, Date.now() >= this.liveAt);
      this.rooms.set(key, room);
    }
    return this.awake(room);
  }

  /** A room that has not played yet goes live once the fake's offline time (--offline-for) is over. */
  private awake(room: Room): Room {
    if (!room.live && this.liveAt > 0 && Date.now() >= this.liveAt && room.position === 0 && room.round === 0) room.live = true;
    return room;
  }

  /** Takes a user's room live (again, from the capture's start with new ids) or offline. */
  setLive(user: string, live: boolean): void {
    const room = this.room(user);
    this.liveAt = 0;
    if (live && !room.live) {
      if (room.position > 0) {
        room.position = 0;
        room.round += 1;
      }
      room.dropped = false;
    }
    room.live = live;
    this.options.log?.(`@${room.user}: ${live ? 'live' : 'offline'}`);
  }

  /** The next `requests` sign requests are answered 429 with this retry-after. */
  limitSignRequests(requests: number, retryAfterSeconds: number): void {
    this.rateLimit = { remaining: requests, retryAfterSeconds };
  }

  /** Cuts every socket of the user's room (or all rooms) without a close handshake. */
  drop(user?: string): number {
    let dropped = 0;
    for (const room of user ? [this.room(user)] : this.rooms.values()) {
      for (const socket of room.listeners) {
        socket.terminate();
        dropped += 1;
      }
      room.listeners.clear();
    }
    return dropped;
  }

  /** Ends the user's stream now, as TikTok does: a control message, then the room is offline. */
  endStream(user: string): void {
    this.finish(this.room(user));
  }

  state(): { url: string; stats: FakeStats; rooms: { user: string; roomId: string; live: boolean; sent: number; total: number; listeners: number }[] } {
    return {
      url: this.url,
      stats: { ...this.stats },
      rooms: [...this.rooms.values()].map((room) => ({
        user: room.user,
        roomId: room.roomId,
        live: room.live,
        sent: room.sent,
        total: this.options.messages.length,
        listeners: room.listeners.size,
      })),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const socket of this.sockets.clients) socket.terminate();
    this.sockets.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://fake');
    const path = url.pathname;
    const user = /^\/@([A-Za-z0-9._]{1,64})\/live\/?$/.exec(path)?.[1];
    if (user && request.method === 'GET') return this.livePage(this.room(user), response);
    if (path === '/api-live/user/room/' || path === '/api-live/user/room') {
      const uniqueId = url.searchParams.get('uniqueId');
      if (!uniqueId) return json(response, 400, { statusCode: 10000, message: 'uniqueId is required' });
      const room = this.room(uniqueId);
      return json(response, 200, { statusCode: 0, data: { user: { roomId: room.roomId, uniqueId: room.user }, liveRoom: { status: room.status } } });
    }
    if (path === '/webcast/room/info/' || path === '/webcast/room/info') {
      const room = this.byRoomId(url.searchParams.get('room_id'));
      if (!room) return json(response, 200, { status_code: 4003110, data: { message: 'room not found' } });
      return json(response, 200, { status_code: 0, data: { id_str: room.roomId, status: room.status, owner: { display_id: room.user, nickname: `Fake ${room.user}` }, title: `${room.user} (fake TikTok)` } });
    }
    const signed = SIGN_PATH.exec(path);
    if (signed && request.method === 'GET') return this.sign(signed[1]!, request, response);
    if (path.startsWith('/__fake/')) return this.control(path.slice('/__fake/'.length), url.searchParams, request, response);
    json(response, 404, { message: 'the fake TikTok has no such page' });
  }

  private livePage(room: Room, response: ServerResponse): void {
    const state = {
      LiveRoom: {
        liveRoomUserInfo: {
          user: { roomId: room.roomId, uniqueId: room.user, nickname: `Fake ${room.user}`, status: room.status },
          liveRoom: { status: room.status },
        },
      },
    };
    // JSON inside a script element: no "<" may close it early.
    const body = `<!doctype html><html><head><title>@${room.user} LIVE (fake)</title></head><body><script id="SIGI_STATE" type="application/json">${JSON.stringify(state).replace(/</g, '\\u003c')}</script></body></html>`;
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  }

  /** The sign server's connect endpoint: where to open the WebSocket, or a rate limit. */
  private sign(roomId: string, request: IncomingMessage, response: ServerResponse): void {
    this.stats.signRequests += 1;
    if (this.rateLimit.remaining > 0) {
      this.rateLimit.remaining -= 1;
      this.stats.rateLimited += 1;
      this.options.log?.(`sign request for room ${roomId}: answered 429 (retry after ${this.rateLimit.retryAfterSeconds} s)`);
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(this.rateLimit.retryAfterSeconds) });
      response.end(JSON.stringify({ message: 'Too many connections started (fake rate limit)', limit_label: 'fake' }));
      return;
    }
    const room = this.byRoomId(roomId);
    if (!room?.live) return json(response, 404, { message: 'the room is not live' });
    const pushServer = `ws://${request.headers.host ?? new URL(this.url).host}${PUSH_PATH}`;
    const body = fetchResult([], { cursor: cursor(), internalExt: internalExt(room), pushServer });
    response.writeHead(200, {
      'content-type': 'application/protobuf',
      'x-set-tt-cookie': `ttwid=fake-${randomBytes(6).toString('hex')}`,
      'x-room-id': room.roomId,
    });
    response.end(Buffer.from(body));
  }

  private control(action: string, params: URLSearchParams, request: IncomingMessage, response: ServerResponse): void {
    if (action === 'status' && request.method === 'GET') return json(response, 200, this.state());
    if (request.method !== 'POST') return json(response, 405, { message: 'use POST' });
    const user = params.get('user') ?? undefined;
    if (['end', 'live', 'offline'].includes(action) && !user) return json(response, 400, { message: 'user is required' });
    switch (action) {
      case 'drop':
        return json(response, 200, { dropped: this.drop(user) });
      case 'end':
        this.endStream(user!);
        return json(response, 200, this.state());
      case 'live':
      case 'offline':
        this.setLive(user!, action === 'live');
        return json(response, 200, this.state());
      case 'rate-limit': {
        const requests = Number(params.get('requests') ?? '1');
        const retryAfter = Number(params.get('retryAfter') ?? '1');
        if (!Number.isInteger(requests) || requests < 0 || !Number.isInteger(retryAfter) || retryAfter < 0)
          return json(response, 400, { message: 'requests and retryAfter must be whole numbers ≥ 0' });
        this.limitSignRequests(requests, retryAfter);
        return json(response, 200, { requests, retryAfter });
      }
      default:
        return json(response, 404, { message: `no control action ${action}` });
    }
  }

  private upgrade(request: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://fake');
    const room = url.pathname === PUSH_PATH ? this.byRoomId(url.searchParams.get('room_id')) : undefined;
    if (!room?.live) {
      socket.end('HTTP/1.1 404 Not Found\r\nhandshake-msg: room not live\r\nconnection: close\r\n\r\n');
      return;
    }
    this.sockets.handleUpgrade(request, socket, head, (ws) => this.connected(room, ws));
  }

  private connected(room: Room, socket: WebSocket): void {
    this.stats.connections += 1;
    this.options.log?.(`@${room.user}: client connected to room ${room.roomId}`);
    socket.on('message', (data: Buffer) => {
      const frame = readClientFrame(data);
      if (!frame) return;
      if (frame.payloadType === 'hb') {
        this.stats.heartbeats += 1;
        socket.send(controlFrame('hb'));
      } else if (frame.payloadType === 'ack') {
        this.stats.acks += 1;
        room.acknowledge(frame.logId);
      } else if (frame.payloadType === 'im_enter_room') {
        socket.send(controlFrame('im_enter_room_resp'));
        room.listeners.add(socket);
        void this.pump(room);
      }
    });
    socket.on('close', () => room.listeners.delete(socket));
    socket.on('error', () => room.listeners.delete(socket));
  }

  /** Plays the capture to the room's listeners while it is live and someone listens. */
  private async pump(room: Room): Promise<void> {
    if (room.pumping) return;
    room.pumping = true;
    try {
      const { messages, speed, batchSize = 20 } = this.options;
      while (!this.closed && room.live && room.listeners.size > 0) {
        if (room.position >= messages.length) {
          if (!this.options.loop) {
            // TikTok's end comes long after the last message; the connector drops frames still in flight when it closes.
            await room.allAcked(ACK_WAIT_MS);
            return this.finish(room);
          }
          room.position = 0;
          room.round += 1;
          this.options.log?.(`@${room.user}: capture played; starting round ${room.round + 1}`);
          continue;
        }
        const batch = this.nextBatch(room.position, batchSize);
        const previous = messages[room.position - 1];
        if (speed !== undefined && previous && batch[0]!.at > previous.at) await delay((batch[0]!.at - previous.at) / speed);
        if (this.closed || !room.live || room.listeners.size === 0) return;
        const logId = String(this.nextLogId++);
        room.expectAck(logId);
        const frame = messageFrame(
          batch.map((message) => inRound(message, room.round)),
          { logId, seqId: logId, cursor: cursor(), internalExt: internalExt(room), needAck: true },
        );
        for (const socket of room.listeners) socket.send(frame);
        room.position += batch.length;
        room.sent += batch.length;
        const { dropAfter } = this.options;
        if (dropAfter !== undefined && !room.dropped && room.sent >= dropAfter) {
          // Cut only once the client confirmed what it was sent, so it is known to have arrived.
          await room.allAcked(ACK_WAIT_MS);
          room.dropped = true;
          this.options.log?.(`@${room.user}: dropping the socket after ${room.sent} messages`);
          this.drop(room.user);
        }
        if (speed === undefined) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      room.pumping = false;
    }
  }

  /** Messages from `start` that go in one frame: a batch at full speed, those due together when paced. */
  private nextBatch(start: number, batchSize: number): CapturedMessage[] {
    const { messages, speed } = this.options;
    const first = messages[start]!;
    const batch = [first];
    for (let index = start + 1; index < messages.length && batch.length < batchSize; index += 1) {
      const message = messages[index]!;
      if (speed !== undefined && message.at > first.at) break;
      batch.push(message);
    }
    return batch;
  }

  private finish(room: Room): void {
    if (!room.live) return;
    room.live = false;
    this.options.log?.(`@${room.user}: stream ended after ${room.sent} messages`);
    const end: OutgoingMessage = streamEndMessage(room.roomId, `${Date.now()}${room.round}`);
    const logId = String(this.nextLogId++);
    const frame = messageFrame([end], { logId, seqId: logId, cursor: cursor(), internalExt: internalExt(room) });
    for (const socket of room.listeners) {
      socket.send(frame);
      // The connector closes on a stream end itself; one that does not is closed for it.
      setTimeout(() => socket.close(1000, 'stream ended'), END_CLOSE_GRACE_MS).unref();
    }
  }

  private byRoomId(roomId: string | null): Room | undefined {
    const room = [...this.rooms.values()].find((candidate) => candidate.roomId === roomId);
    return room && this.awake(room);
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

const cursor = () => `${Date.now()}_fake`;
const internalExt = (room: Room) => `fake_room:${room.roomId}|round:${room.round}`;

/** A stable 19-digit room id for a user other than the first. */
function derivedRoomId(user: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(user).digest('hex').slice(0, 15)}`).toString().padStart(18, '0');
  return `7${digits.slice(0, 18)}`;
}
