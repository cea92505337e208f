/** What the hub and the live feed send fits the host contract's frames, the ones the overlays are typed against. */
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveFeedFrameSchema, OverlayServerFrameSchema } from '@ttlp/sdk/host-contract';
import { newSessionId, openOverlayStack, overlayMessage, TestSocket, testEvent, waitFor, type OverlayStack } from '../../test/support/overlay-stack.ts';

// ajv-formats is CommonJS; under ESM its callable sits on `default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
addFormats(ajv, ['date-time', 'uuid']);
const isOverlayFrame = ajv.compile(OverlayServerFrameSchema);
const isLiveFeedFrame = ajv.compile(LiveFeedFrameSchema);

describe('the frames the host sends', () => {
  let stack: OverlayStack;

  beforeAll(async () => {
    stack = await openOverlayStack('memory', 'frames');
  });

  afterAll(() => stack?.close());

  it("are the host contract's: hello, reset, message and state to widgets, event to the live feed", async () => {
    const alerts = await TestSocket.overlay(stack.server, 'alerts/alerts');
    const counters = await TestSocket.overlay(stack.server, 'host/counters');
    const live = await TestSocket.open(`${stack.server.url}/ws/live?token=admin`);
    await waitFor(() => stack.feed.connectedClients === 1, 'the live-feed socket');
    await alerts.waitFor((socket) => socket.ofType('reset').length === 1, 'the reset of the alerts channel');

    await stack.testBus.bus.publishMany('overlay', [
      overlayMessage('alerts', 'alerts', 'message', { type: 'gift', alertId: 'a1', text: 'anna sent a Rose' }, 'e1'),
      overlayMessage('alerts', 'alerts', 'message', { type: 'follow', alertId: 'a2', text: 'bo followed' }, 'e2'),
      overlayMessage('alerts', 'alerts', 'state', { shown: 1 }),
    ]);
    await stack.testBus.bus.publish('events', testEvent('LIKE', newSessionId(), { likeCount: 5, totalLikeCount: 5 }));
    await alerts.waitFor((socket) => socket.ofType('message').length === 2 && socket.ofType('state').length === 1, 'two messages and a state');
    await counters.waitFor((socket) => socket.ofType('state').some((frame) => frame.data?.likes === 5), 'the counted likes');
    await live.waitFor((socket) => socket.ofType('event').length === 1, 'the event');

    const widgetFrames = [...alerts.frames, ...counters.frames];
    expect(new Set(widgetFrames.map((frame) => frame.type))).toEqual(new Set(['hello', 'reset', 'message', 'state']));
    expect(widgetFrames.filter((frame) => !isOverlayFrame(frame))).toEqual([]);
    expect(live.frames.filter((frame) => !isLiveFeedFrame(frame))).toEqual([]);
    await Promise.all([alerts.close(), counters.close(), live.close()]);
  });
});
