import { describe, expect, it } from 'vitest';
import { EnvelopeFactory, toJsonSafe } from './envelope.ts';

describe('toJsonSafe', () => {
  it('leaves out members at their protobuf default, as proto3 does on the wire', () => {
    expect(
      toJsonSafe({ a: '', b: '0', c: 0, d: false, e: [], f: {}, g: null, h: { i: '' }, keep: 'x', n: 5, yes: true, id: '7' }),
    ).toEqual({ keep: 'x', n: 5, yes: true, id: '7' });
  });

  it('keeps array items in place whatever their value', () => {
    expect(toJsonSafe({ list: [0, '', { a: 0 }, 'x'] })).toEqual({ list: [0, '', {}, 'x'] });
  });

  it('turns bytes into base64 and bigints into decimal strings, and drops functions', () => {
    expect(toJsonSafe({ bytes: Buffer.from('hi'), raw: new Uint8Array([1, 2]), big: 2n ** 64n, fn: () => 1 })).toEqual({
      bytes: 'aGk=',
      raw: 'AQI=',
      big: '18446744073709551616',
    });
  });
});

describe('EnvelopeFactory', () => {
  it('numbers a session’s envelopes from 1 and keeps stream, session and source', () => {
    const factory = new EnvelopeFactory('42', '3b241101-e2bb-4255-8caf-4136c566a962', 'replay');
    const at = new Date('2023-11-13T17:00:00.000Z');
    const first = factory.make('connected', {}, { timestamp: at, ingestedAt: at });
    const second = factory.make('WebcastChatMessage', { content: 'hi' });
    expect(first).toEqual({
      schemaVersion: 'raw.v1',
      streamId: '42',
      sessionId: '3b241101-e2bb-4255-8caf-4136c566a962',
      source: 'replay',
      type: 'connected',
      seqNo: '1',
      timestamp: at.toISOString(),
      ingestedAt: at.toISOString(),
      data: {},
    });
    expect(second.seqNo).toBe('2');
    expect(second.timestamp).toBe(second.ingestedAt);
  });
});
