/**
 * Forged entries on the `overlay` stream (anyone who can write to the bus): the hub shows only
 * well-formed overlay messages of plugins, never one that claims the host's own channels
 * (`host/counters`), and keeps serving the real ones. Malformed entries are dead-lettered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OverlayHub } from '../../src/overlay-hub/hub.ts';
import type { LiveFeed } from '../../src/overlay-hub/live-feed.ts';
import type { DeadLetter } from '../../src/bus/types.ts';
import { COUNTERS_CHANNEL } from '../../src/overlay-hub/protocol.ts';
import { publishForged } from '../support/bus-entries.ts';
import { openOverlayStack, overlayMessage, TestSocket, waitFor, type OverlayStack, type TestBus, type TestServer } from '../support/overlay-stack.ts';

describe('forged overlay stream entries', () => {
  let testBus: TestBus;
  let hub: OverlayHub;
  let feed: LiveFeed;
  let server: TestServer;

  let stack: OverlayStack;

  beforeAll(async () => {
    stack = await openOverlayStack('memory', 'forged', { blockMs: 20 });
    ({ testBus, hub, feed, server } = stack);
  });

  afterAll(() => stack?.close());

  it('dead-letters entries that are not overlay messages, ignores those that claim the host’s channels, and delivers the real ones', async () => {
    const counters = await TestSocket.overlay(server, 'host/counters');
    const alerts = await TestSocket.overlay(server, 'alerts/alerts');
    await counters.waitFor((s) => s.ofType('reset').length === 1, 'the counters reset');
    await alerts.waitFor((s) => s.ofType('reset').length === 1, 'the alerts reset');
    const countersFrames = counters.frames.length;
    const rejected = hub.entriesRejected;
    const dlqBefore = await testBus.bus.lastId('dlq');
    const [, sealedId] = await publishForged(testBus.bus, 'overlay', [
      overlayMessage('host', 'counters', 'state', { likes: 999_999_999 }),
      { ...overlayMessage('host', 'counters', 'state', { likes: 999_999_999 }), seal: 'f'.repeat(64) },
      { pluginId: 'alerts', channel: 'alerts', kind: 'script', data: '<script>alert(1)</script>', at: new Date().toISOString() },
      { pluginId: 'x'.repeat(500), channel: 'alerts', kind: 'message', data: {}, at: new Date().toISOString() },
      { channel: 'alerts', kind: 'message', data: {} },
      'not an object',
      null,
      overlayMessage('alerts', 'alerts', 'message', { text: 'the real one' }),
    ]);
    await alerts.waitFor((s) => s.ofType('message').length === 1, 'the real alert');
    await waitFor(() => hub.entriesRejected === rejected + 1, 'the entry with a seal that does not fit to be ignored');
    const letters = (await testBus.bus.range<DeadLetter>('dlq', { start: dlqBefore })).filter((entry) => entry.id !== dlqBefore);
    expect(letters.map((letter) => [letter.payload.stage, letter.payload.reason])).toEqual(Array(6).fill(['overlay-hub', 'INVALID_ENTRY']));
    expect(letters.some((letter) => letter.payload.source?.id === sealedId)).toBe(false);
    expect(alerts.ofType('message')).toEqual([expect.objectContaining({ channel: 'alerts/alerts', data: { text: 'the real one' } })]);
    // The counters widget saw no forged state (the feed's own tally may tick; it never reads 999999999).
    expect(counters.frames.slice(countersFrames).some((frame) => JSON.stringify(frame).includes('999999999'))).toBe(false);
    expect(hub.sequence(COUNTERS_CHANNEL)).toBeGreaterThanOrEqual(0);
    await Promise.all([counters.close(), alerts.close()]);
  });
});
