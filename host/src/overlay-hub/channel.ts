/**
 * One overlay channel (`<pluginId>/<channel>`) as the hub keeps it: its sequence number, a
 * bounded ring of recent message frames for clients that resume, and its last state.
 */
import type { OverlayMessage } from '../bus/types.ts';
import type { MessageFrame, StateFrame } from './protocol.ts';

/** A frame as sent: its sequence number and its JSON text, serialized once for every client. */
export interface ChannelFrame {
  seq: number;
  kind: 'message' | 'state';
  text: string;
  /** UTF-8 length of `text`, for the send limit. */
  bytes: number;
}

function frameOf(seq: number, body: MessageFrame | StateFrame): ChannelFrame {
  const text = JSON.stringify(body);
  return { seq, kind: body.type, text, bytes: Buffer.byteLength(text) };
}

export interface ChannelState {
  frame: ChannelFrame;
  data: unknown;
}

/** What a client is owed up to the moment it connected: later frames are queued for it. */
export interface ChannelSnapshot {
  seq: number;
  state: ChannelState | undefined;
}

export class OverlayChannel {
  /** The sequence number of the newest frame; 0 before the first one. */
  seq = 0;
  private state: ChannelState | undefined;
  private readonly ring: Array<ChannelFrame | undefined>;
  private head = 0;
  private size = 0;
  /** The newest message frame that fell out of the ring: clients behind it cannot resume. */
  private evictedThrough = 0;

  constructor(
    readonly key: string,
    private readonly capacity: number,
  ) {
    this.ring = new Array<ChannelFrame | undefined>(capacity);
  }

  /** Numbers the entry, keeps it, and answers the frame to send to the channel's clients. */
  append(entry: OverlayMessage): ChannelFrame {
    this.seq += 1;
    const data = entry.data ?? null;
    if (entry.kind === 'state') {
      const body: StateFrame = { type: 'state', channel: this.key, seq: this.seq, pluginId: entry.pluginId, data, at: entry.at };
      const frame = frameOf(this.seq, body);
      // A new object, never mutated: snapshots taken earlier keep the state they saw.
      this.state = { frame, data };
      return frame;
    }
    const body: MessageFrame = {
      type: 'message',
      channel: this.key,
      seq: this.seq,
      pluginId: entry.pluginId,
      data,
      ...(entry.eventId === undefined ? {} : { eventId: entry.eventId }),
      at: entry.at,
    };
    const frame = frameOf(this.seq, body);
    this.keep(frame);
    return frame;
  }

  snapshot(): ChannelSnapshot {
    return { seq: this.seq, state: this.state };
  }

  /**
   * The frames after `after` up to the snapshot, in order: the kept messages and the snapshot's
   * state when it is newer (older states are superseded, so they are not replayed). Undefined
   * when a message in that range has already left the ring, or `after` is past the snapshot.
   */
  replay(after: number, snapshot: ChannelSnapshot): ChannelFrame[] | undefined {
    if (after > snapshot.seq || this.evictedThrough > after) return undefined;
    const frames: ChannelFrame[] = [];
    for (let index = 0; index < this.size; index += 1) {
      const frame = this.ring[(this.head + index) % this.capacity] as ChannelFrame;
      if (frame.seq > snapshot.seq) break;
      if (frame.seq > after) frames.push(frame);
    }
    const state = snapshot.state?.frame;
    if (state && state.seq > after) {
      const at = frames.findIndex((frame) => frame.seq > state.seq);
      frames.splice(at === -1 ? frames.length : at, 0, state);
    }
    return frames;
  }

  private keep(frame: ChannelFrame): void {
    if (this.capacity === 0) {
      this.evictedThrough = frame.seq;
      return;
    }
    if (this.size === this.capacity) {
      this.evictedThrough = (this.ring[this.head] as ChannelFrame).seq;
      this.ring[this.head] = frame;
      this.head = (this.head + 1) % this.capacity;
      return;
    }
    this.ring[(this.head + this.size) % this.capacity] = frame;
    this.size += 1;
  }
}
