import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, reconnectDelay, type SocketStatus } from './reconnecting-socket.ts';

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  closedWith: { code: number; reason: string } | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code: number, reason: string) {
    this.readyState = 3;
    this.closedWith = { code, reason };
  }
  serverOpens() {
    this.readyState = 1;
    this.onopen?.({});
  }
  serverSends(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  serverCloses(code: number) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

const latest = () => FakeSocket.all.at(-1) as FakeSocket;

function socket(overrides: Partial<ConstructorParameters<typeof ReconnectingSocket>[0]> = {}) {
  const frames: unknown[] = [];
  const statuses: SocketStatus[] = [];
  const rs = new ReconnectingSocket({
    url: () => 'ws://host/ws/overlay/alerts?token=t',
    onOpen: (send) => send({ type: 'hi' }),
    onFrame: (frame) => frames.push(frame),
    onStatus: (status) => statuses.push(status),
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    random: () => 1,
    ...overrides,
  });
  return { rs, frames, statuses };
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('reconnectDelay', () => {
  it('starts at about 1 s, grows ×1.3 and stops at 10 s, jittered down to 80 %', () => {
    expect(reconnectDelay(1, () => 1)).toBe(1000);
    expect(reconnectDelay(2, () => 1)).toBe(1300);
    expect(reconnectDelay(3, () => 1)).toBe(1690);
    expect(reconnectDelay(20, () => 1)).toBe(10_000);
    expect(reconnectDelay(1, () => 0)).toBe(800);
    expect(reconnectDelay(50, () => 0)).toBe(8000);
  });
});

describe('ReconnectingSocket', () => {
  it('connects, sends on open and passes JSON object frames on', () => {
    const { rs, frames, statuses } = socket();
    rs.start();
    latest().serverOpens();
    expect(latest().sent).toEqual([{ type: 'hi' }]);
    latest().serverSends({ type: 'ping' });
    latest().onmessage?.({ data: 'not json' });
    latest().onmessage?.({ data: '[1]' });
    expect(frames).toEqual([{ type: 'ping' }]);
    expect(statuses).toEqual(['connecting', 'open']);
  });

  it('reconnects with growing delays and resets them after 5 s connected', () => {
    const { rs } = socket();
    rs.start();
    latest().serverCloses(1006);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(999);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    latest().serverCloses(1006);
    vi.advanceTimersByTime(1299);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(3);
    // Connected long enough: the next drop starts over at 1 s.
    latest().serverOpens();
    vi.advanceTimersByTime(5000);
    latest().serverCloses(4008);
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(4);
  });

  it('does not reset the back-off for a connection that drops within 5 s', () => {
    const { rs } = socket();
    rs.start();
    latest().serverCloses(1006);
    vi.advanceTimersByTime(1000);
    latest().serverOpens();
    vi.advanceTimersByTime(4000);
    latest().serverCloses(4008);
    vi.advanceTimersByTime(1299);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(3);
  });

  it('takes a connection without frames for 40 s for dead and replaces it', () => {
    const { rs } = socket();
    rs.start();
    const first = latest();
    first.serverOpens();
    vi.advanceTimersByTime(30_000);
    first.serverSends({ type: 'ping' });
    vi.advanceTimersByTime(39_999);
    expect(first.closedWith).toBeNull();
    vi.advanceTimersByTime(1);
    expect(first.closedWith?.code).toBe(4000);
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('gives up on a connection that does not open in time', () => {
    const { rs } = socket({ connectTimeoutMs: 3000 });
    rs.start();
    vi.advanceTimersByTime(3000);
    expect(FakeSocket.all[0]?.closedWith).not.toBeNull();
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('stops for good', () => {
    const { rs, statuses } = socket();
    rs.start();
    latest().serverOpens();
    rs.stop();
    expect(latest().closedWith?.code).toBe(1000);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(statuses.at(-1)).toBe('idle');
  });
});
