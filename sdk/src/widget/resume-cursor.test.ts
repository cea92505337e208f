import { describe, expect, it } from 'vitest';
import { OverlayResumeCursor } from './resume-cursor.ts';

const hello = (epoch: string, channels = ['alerts/alerts']) => ({ type: 'hello', epoch, widget: 'alerts', channels });
const message = (seq: number, data: unknown = { seq }) => ({ type: 'message', channel: 'alerts/alerts', seq, pluginId: 'alerts', data, eventId: `e${seq}`, at: '2026-01-01T00:00:00.000Z' });

describe('OverlayResumeCursor', () => {
  it('answers the first hello with a resume that has no epoch and no sequence numbers', () => {
    const cursor = new OverlayResumeCursor();
    cursor.opened();
    expect(cursor.receive(hello('A')).reply).toEqual({ type: 'resume', epoch: null, last: {} });
    expect(cursor.epoch).toBe('A');
  });

  it('ignores frames before the hello', () => {
    const cursor = new OverlayResumeCursor();
    cursor.opened();
    expect(cursor.receive(message(1))).toEqual({});
  });

  it('shows each seq once and drops repeats and older frames', () => {
    const cursor = new OverlayResumeCursor();
    cursor.opened();
    cursor.receive(hello('A'));
    expect(cursor.receive(message(1)).delivery).toMatchObject({ kind: 'message', data: { seq: 1 }, eventId: 'e1' });
    expect(cursor.receive(message(2)).delivery).toBeDefined();
    expect(cursor.receive(message(2)).delivery).toBeUndefined();
    expect(cursor.receive(message(1)).delivery).toBeUndefined();
    expect(cursor.receive(message(5)).delivery).toBeDefined();
    expect(cursor.lastSeq('alerts/alerts')).toBe(5);
  });

  it('resumes in the same epoch with the last seq per channel', () => {
    const cursor = new OverlayResumeCursor();
    cursor.opened();
    cursor.receive(hello('A'));
    cursor.receive(message(12));
    cursor.opened();
    expect(cursor.receive(hello('A')).reply).toEqual({ type: 'resume', epoch: 'A', last: { 'alerts/alerts': 12 } });
    // A frame the server replays that we already saw is not shown again.
    expect(cursor.receive(message(12)).delivery).toBeUndefined();
    expect(cursor.receive(message(13)).delivery).toBeDefined();
  });

  it('forgets the old sequence numbers when the host restarted (new epoch)', () => {
    const cursor = new OverlayResumeCursor();
    cursor.opened();
    cursor.receive(hello('A'));
    cursor.receive(message(40));
    cursor.opened();
    // The resume still names what we saw, so the host knows to send resets.
    expect(cursor.receive(hello('B')).reply).toEqual({ type: 'resume', epoch: 'A', last: { 'alerts/alerts': 40 } });
    expect(cursor.epoch).toBe('B');
    expect(cursor.receive(message(1)).delivery).toBeDefined();
    cursor.opened();
    expect(cursor.receive(hello('B')).reply).toEqual({ type: 'resume', epoch: 'B', last: { 'alerts/alerts': 1 } });
  });

  it('applies a reset as state and continues after its seq', () => {
    const cursor = new OverlayResumeCursor();
    cursor.opened();
    cursor.receive(hello('A', ['alerts/alerts', 'goals/goals']));
    const state = { goals: [] };
    expect(cursor.receive({ type: 'reset', channel: 'goals/goals', seq: 7, state }).delivery).toEqual({
      kind: 'state',
      channel: 'goals/goals',
      data: state,
      reset: true,
    });
    expect(cursor.receive({ type: 'state', channel: 'goals/goals', seq: 7, data: {} }).delivery).toBeUndefined();
    expect(cursor.receive({ type: 'state', channel: 'goals/goals', seq: 8, data: { n: 1 } }).delivery).toMatchObject({
      kind: 'state',
      data: { n: 1 },
      reset: false,
    });
    expect(cursor.receive({ type: 'reset', channel: 'alerts/alerts', seq: 3, state: null }).delivery).toMatchObject({ data: null });
  });

  it('takes the frames of every channel the hello names, and of no other', () => {
    const cursor = new OverlayResumeCursor();
    cursor.opened();
    cursor.receive(hello('A', ['alerts/alerts', 'rules/rules']));
    expect(cursor.channels).toEqual(['alerts/alerts', 'rules/rules']);
    expect(cursor.receive(message(1)).delivery).toMatchObject({ channel: 'alerts/alerts' });
    expect(cursor.receive({ ...message(1), channel: 'rules/rules' }).delivery).toMatchObject({ channel: 'rules/rules' });
    expect(cursor.receive({ ...message(2), channel: 'chat/chat' })).toEqual({});
    expect(cursor.lastSeq('chat/chat')).toBeUndefined();
    // The next hello's channels replace the last one's.
    cursor.opened();
    cursor.receive(hello('A'));
    expect(cursor.receive({ ...message(2), channel: 'rules/rules' })).toEqual({});
  });

  it('ignores pings and frames without a channel or seq', () => {
    const cursor = new OverlayResumeCursor();
    cursor.opened();
    cursor.receive(hello('A'));
    expect(cursor.receive({ type: 'ping' })).toEqual({});
    expect(cursor.receive({ type: 'message', seq: 1, data: {} })).toEqual({});
    expect(cursor.receive({ type: 'message', channel: 'alerts/alerts', seq: '2', data: {} })).toEqual({});
  });
});
