/**
 * The client side of the overlay WebSocket protocol, without I/O: which frame to answer with,
 * which frames to show. One instance lives as long as the page, across reconnects, so it
 * remembers the epoch and the last sequence number seen on each channel.
 *
 *   server → hello {epoch, widget, channels}
 *   client → resume {epoch: last seen epoch | null, last: {channel: seq}}
 *   server → the missed frames, or per channel reset {channel, seq, state}
 *   server → message / state frames with increasing seq per channel; ping every 15 s
 */

export type OverlayDelivery =
  | { kind: 'state'; channel: string; data: unknown; reset: boolean }
  | { kind: 'message'; channel: string; data: unknown; eventId: string | null; at: string | null };

export interface ResumeFrame {
  type: 'resume';
  epoch: string | null;
  last: Record<string, number>;
}

export interface OverlayStep {
  reply?: ResumeFrame;
  delivery?: OverlayDelivery;
}

export class OverlayResumeCursor {
  #epoch: string | null = null;
  readonly #last = new Map<string, number>();
  #greeted = false;

  get epoch(): string | null {
    return this.#epoch;
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
    if (type === 'hello') return this.#hello(frame);
    if (!this.#greeted) return {};
    const channel = typeof frame.channel === 'string' ? frame.channel : null;
    const seq = typeof frame.seq === 'number' && Number.isFinite(frame.seq) ? frame.seq : null;
    if (channel === null || seq === null) return {};
    if (type === 'reset') {
      // Authoritative: the server could not replay what we missed; its state replaces ours.
      this.#last.set(channel, seq);
      return { delivery: { kind: 'state', channel, data: frame.state ?? null, reset: true } };
    }
    if (type !== 'message' && type !== 'state') return {};
    const last = this.#last.get(channel);
    if (last !== undefined && seq <= last) return {};
    this.#last.set(channel, seq);
    if (type === 'state') return { delivery: { kind: 'state', channel, data: frame.data ?? null, reset: false } };
    return {
      delivery: {
        kind: 'message',
        channel,
        data: frame.data ?? null,
        eventId: typeof frame.eventId === 'string' ? frame.eventId : null,
        at: typeof frame.at === 'string' ? frame.at : null,
      },
    };
  }

  #hello(frame: Record<string, unknown>): OverlayStep {
    const epoch = typeof frame.epoch === 'string' ? frame.epoch : null;
    // The resume names the epoch our sequence numbers belong to; a different epoch in the
    // hello makes the server answer with resets, after which we count in the new epoch.
    const reply: ResumeFrame = { type: 'resume', epoch: this.#epoch, last: Object.fromEntries(this.#last) };
    if (epoch !== this.#epoch) {
      this.#epoch = epoch;
      this.#last.clear();
    }
    this.#greeted = true;
    return { reply };
  }
}
