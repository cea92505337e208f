/**
 * The client side of the overlay WebSocket protocol, without I/O: which frame to answer with,
 * which frames to show. One instance lives as long as the page, across reconnects, so it
 * remembers the epoch and the last sequence number seen on each channel.
 *
 *   server → hello {epoch, widget, channels}
 *   client → resume {epoch: last seen epoch | null, last: {channel: seq}}
 *   server → the missed frames, or per channel reset {channel, seq, state}
 *   server → message / state frames with increasing seq per channel; ping every 15 s
 *
 * The frames are the host contract's (`@ttlp/sdk/host-contract`); what arrives is still read
 * field by field, as any text from the network.
 */
import type { HelloFrame, MessageFrame, ResetFrame, ResumeFrame, StateFrame } from '@ttlp/sdk/host-contract';

export type OverlayDelivery =
  | { kind: 'state'; channel: string; data: unknown; reset: boolean }
  | { kind: 'message'; channel: string; data: unknown; eventId: string | null; at: string | null };

export interface OverlayStep {
  reply?: ResumeFrame;
  delivery?: OverlayDelivery;
}

type Fields<Frame> = { [Key in keyof Frame]?: unknown };

export class OverlayResumeCursor {
  #epoch: string | null = null;
  readonly #last = new Map<string, number>();
  /** The channels the last hello named: frames of any other channel are not this socket's. */
  #channels = new Set<string>();
  #greeted = false;

  get epoch(): string | null {
    return this.#epoch;
  }

  /** The channels the last hello named. */
  get channels(): readonly string[] {
    return [...this.#channels];
  }

  lastSeq(channel: string): number | undefined {
    return this.#last.get(channel);
  }

  /** A new connection opened: wait for its hello before taking anything else. */
  opened(): void {
    this.#greeted = false;
  }

  receive(frame: Record<string, unknown>): OverlayStep {
    const type = frame.type;
    if (type === 'hello') return this.#hello(frame as Fields<HelloFrame>);
    if (!this.#greeted) return {};
    const { channel, seq } = frame as Fields<MessageFrame | StateFrame | ResetFrame>;
    if (typeof channel !== 'string' || !this.#channels.has(channel)) return {};
    if (typeof seq !== 'number' || !Number.isFinite(seq)) return {};
    if (type === 'reset') {
      // Authoritative: the server could not replay what we missed; its state replaces ours.
      this.#last.set(channel, seq);
      return { delivery: { kind: 'state', channel, data: (frame as Fields<ResetFrame>).state ?? null, reset: true } };
    }
    if (type !== 'message' && type !== 'state') return {};
    const last = this.#last.get(channel);
    if (last !== undefined && seq <= last) return {};
    this.#last.set(channel, seq);
    if (type === 'state') return { delivery: { kind: 'state', channel, data: (frame as Fields<StateFrame>).data ?? null, reset: false } };
    const message = frame as Fields<MessageFrame>;
    return {
      delivery: {
        kind: 'message',
        channel,
        data: message.data ?? null,
        eventId: typeof message.eventId === 'string' ? message.eventId : null,
        at: typeof message.at === 'string' ? message.at : null,
      },
    };
  }

  #hello(frame: Fields<HelloFrame>): OverlayStep {
    const epoch = typeof frame.epoch === 'string' ? frame.epoch : null;
    // The resume names the epoch our sequence numbers belong to; a different epoch in the
    // hello makes the server answer with resets, after which we count in the new epoch.
    const reply: ResumeFrame = { type: 'resume', epoch: this.#epoch, last: Object.fromEntries(this.#last) };
    if (epoch !== this.#epoch) {
      this.#epoch = epoch;
      this.#last.clear();
    }
    const channels = Array.isArray(frame.channels) ? frame.channels : [];
    this.#channels = new Set(channels.filter((channel): channel is string => typeof channel === 'string'));
    this.#greeted = true;
    return { reply };
  }
}
