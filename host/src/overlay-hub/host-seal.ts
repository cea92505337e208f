/**
 * The host's own overlay channels (`host/…`) travel on the `overlay` stream like plugins' messages.
 * Anyone who can write to the bus could write one too, so the host seals its entries with a key
 * that only this process holds, and its hub shows a host-channel entry only when the seal fits:
 * a forged entry never reaches a widget, nor does another host's (that host's own hub shows it).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a seal covers: every field a widget sees. */
export interface SealedFields {
  pluginId: string;
  channel: string;
  kind: 'message' | 'state';
  data: unknown;
  eventId?: string;
  at: string;
  seal?: string;
}

export class HostSeal {
  private readonly key = randomBytes(32);

  /** The seal of `entry`: HMAC-SHA256 of its fields as JSON text, in hex. */
  of(entry: SealedFields): string {
    // The fields as they read after the bus's JSON round trip, so the hub computes the same text.
    const text = JSON.stringify([entry.pluginId, entry.channel, entry.kind, entry.data ?? null, entry.eventId ?? null, entry.at]);
    return createHmac('sha256', this.key).update(text).digest('hex');
  }

  /** True when `entry` carries the seal this process would give it. */
  fits(entry: SealedFields): boolean {
    if (typeof entry.seal !== 'string') return false;
    const expected = Buffer.from(this.of(entry), 'hex');
    const given = Buffer.from(entry.seal, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
