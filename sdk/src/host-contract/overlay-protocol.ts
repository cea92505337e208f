/**
 * The frames of the overlay WebSocket protocol (docs/overlay-protocol.md), as TypeBox: the host
 * sends them, the widgets and the settings page's live feed read them.
 */
import Type, { type Static } from 'typebox';
import { UnifiedEventSchema } from '../contract/unified-event.ts';

const Channel = Type.String({ minLength: 1, maxLength: 257, description: '`<pluginId>/<channel>`' });
const Seq = Type.Integer({ minimum: 0, description: 'Counts per channel within an epoch; 0 = nothing yet' });

/** Always the first frame after the socket opens: the hub's epoch and the channels this socket carries. */
export const HelloFrameSchema = Type.Object({
  type: Type.Literal('hello'),
  epoch: Type.String(),
  widget: Type.String({ minLength: 1, maxLength: 97, description: 'The widget, `<pluginId>/<widgetId>` (the host\'s: `host/<widgetId>`)' }),
  channels: Type.Array(Channel),
});
export type HelloFrame = Static<typeof HelloFrameSchema>;

/** "Start from here": forget the channel, show `state` (null when it has none), count on from `seq`. */
export const ResetFrameSchema = Type.Object({
  type: Type.Literal('reset'),
  channel: Channel,
  seq: Seq,
  state: Type.Unknown(),
});
export type ResetFrame = Static<typeof ResetFrameSchema>;

/** Something to show once (an alert, a chat line); `eventId` is the UnifiedEvent that caused it. */
export const MessageFrameSchema = Type.Object({
  type: Type.Literal('message'),
  channel: Channel,
  seq: Seq,
  pluginId: Type.String(),
  data: Type.Unknown(),
  eventId: Type.Optional(Type.String()),
  at: Type.String({ format: 'date-time' }),
});
export type MessageFrame = Static<typeof MessageFrameSchema>;

/** The channel's whole current state; it replaces the previous one. */
export const StateFrameSchema = Type.Object({
  type: Type.Literal('state'),
  channel: Channel,
  seq: Seq,
  pluginId: Type.String(),
  data: Type.Unknown(),
  at: Type.String({ format: 'date-time' }),
});
export type StateFrame = Static<typeof StateFrameSchema>;

/** Sent every 15 s on every socket: browsers cannot see WebSocket ping frames. */
export const PingFrameSchema = Type.Object({ type: Type.Literal('ping') });
export type PingFrame = Static<typeof PingFrameSchema>;

/** Live feed (`/ws/live`): one contract-valid event of the `events` stream. */
export const EventFrameSchema = Type.Object({ type: Type.Literal('event'), event: UnifiedEventSchema });
export type EventFrame = Static<typeof EventFrameSchema>;

/** What an overlay socket (`/ws/overlay/:widget`) carries. */
export const OverlayServerFrameSchema = Type.Union([HelloFrameSchema, ResetFrameSchema, MessageFrameSchema, StateFrameSchema, PingFrameSchema]);
export type OverlayServerFrame = Static<typeof OverlayServerFrameSchema>;

/** What the live-feed socket (`/ws/live`) carries. */
export const LiveFeedFrameSchema = Type.Union([EventFrameSchema, PingFrameSchema]);
export type LiveFeedFrame = Static<typeof LiveFeedFrameSchema>;

export type ServerFrame = OverlayServerFrame | LiveFeedFrame;

/** The one frame a client sends, once after every open: the epoch its `last` sequence numbers belong to. */
export const ResumeFrameSchema = Type.Object({
  type: Type.Literal('resume'),
  epoch: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
  last: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { maxProperties: 64 }),
});
export type ResumeFrame = Static<typeof ResumeFrameSchema>;
