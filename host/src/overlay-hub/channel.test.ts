import { describe, expect, it } from 'vitest';
import { OverlayChannel, type ChannelFrame } from './channel.ts';

const message = (n: number) => ({ pluginId: 'alerts', channel: 'alerts', kind: 'message' as const, data: { n }, at: '2026-11-25T18:00:00.000Z' });
const state = (n: number) => ({ pluginId: 'alerts', channel: 'alerts', kind: 'state' as const, data: { n }, at: '2026-11-25T18:00:00.000Z' });
const seqs = (frames: ChannelFrame[] | undefined) => frames?.map((frame) => frame.seq);

describe('OverlayChannel', () => {
  it('numbers every frame and serializes it in the protocol shape', () => {
    const channel = new OverlayChannel('alerts/alerts', 10);
    const first = channel.append({ ...message(1), eventId: 'e1' });
    const second = channel.append(state(2));
    expect(JSON.parse(first.text)).toEqual({ type: 'message', channel: 'alerts/alerts', seq: 1, pluginId: 'alerts', data: { n: 1 }, eventId: 'e1', at: '2026-11-25T18:00:00.000Z' });
    expect(JSON.parse(second.text)).toEqual({ type: 'state', channel: 'alerts/alerts', seq: 2, pluginId: 'alerts', data: { n: 2 }, at: '2026-11-25T18:00:00.000Z' });
    expect(first.bytes).toBe(Buffer.byteLength(first.text));
    expect(channel.snapshot()).toMatchObject({ seq: 2, state: { data: { n: 2 } } });
  });

  it('replays the messages after a sequence number and the newest state, in order, up to the snapshot', () => {
    const channel = new OverlayChannel('alerts/alerts', 10);
    for (const entry of [message(1), state(2), message(3), state(4), message(5)]) channel.append(entry);
    const snapshot = channel.snapshot();
    channel.append(message(6));
    expect(seqs(channel.replay(0, snapshot))).toEqual([1, 3, 4, 5]);
    expect(seqs(channel.replay(3, snapshot))).toEqual([4, 5]);
    expect(seqs(channel.replay(4, snapshot))).toEqual([5]);
    expect(seqs(channel.replay(5, snapshot))).toEqual([]);
    expect(channel.replay(6, snapshot)).toBeUndefined();
  });

  it('cannot replay once a message after the sequence number has left the ring', () => {
    const channel = new OverlayChannel('alerts/alerts', 3);
    for (let n = 1; n <= 5; n += 1) channel.append(message(n));
    expect(channel.replay(1, channel.snapshot())).toBeUndefined();
    expect(seqs(channel.replay(2, channel.snapshot()))).toEqual([3, 4, 5]);
    const unbuffered = new OverlayChannel('alerts/alerts', 0);
    unbuffered.append(message(1));
    expect(unbuffered.replay(0, unbuffered.snapshot())).toBeUndefined();
    expect(seqs(unbuffered.replay(1, unbuffered.snapshot()))).toEqual([]);
  });
});
