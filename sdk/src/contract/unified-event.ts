/**
 * UnifiedEvent v1: the one event contract every stage after the normalizer speaks.
 * The TypeScript types and the published JSON Schema are both derived from the
 * TypeBox declarations in this file (D-014), so they cannot drift apart.
 */
import Type, { type Static, type TSchema } from 'typebox';
import {
  EVENT_TYPES,
  FOLLOW_DISPLAY_TYPE,
  SHARE_DISPLAY_TYPE,
  TRIGGER_IDS,
  UNIFIED_EVENT_SCHEMA_VERSION,
  type EventType,
} from './constants.ts';

export {
  UNIFIED_EVENT_SCHEMA_VERSION,
  SYSTEM_USER,
  FOLLOW_DISPLAY_TYPE,
  SHARE_DISPLAY_TYPE,
  TRIGGER_IDS,
  EVENT_TYPES,
  type EventType,
} from './constants.ts';

export const UNIFIED_EVENT_SCHEMA_ID = 'https://ttlp.dev/contracts/unified-event.v1.schema.json';

const NonNegativeInt = (description?: string) => Type.Integer({ minimum: 0, ...(description ? { description } : {}) });
const Text = (maxLength: number, description?: string) =>
  Type.String({ maxLength, ...(description ? { description } : {}) });
const IsoTime = (description: string) => Type.String({ format: 'date-time', description });

export const EventUserSchema = Type.Object(
  {
    userId: Type.String({ minLength: 1, maxLength: 128, description: 'TikTok numeric user id (decimal string), or its pseudonym' }),
    uniqueId: Text(128, 'The @handle without the @'),
    displayName: Type.Optional(Text(256, 'Nickname shown by TikTok')),
    avatarUrl: Type.Optional(Text(2048)),
    followRole: Type.Optional(
      Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], {
        description: '0 = not following the host, 1 = follower, 2 = friends (mutual follow)',
      }),
    ),
    isModerator: Type.Optional(Type.Boolean()),
    isSubscriber: Type.Optional(Type.Boolean()),
    teamMemberLevel: Type.Optional(NonNegativeInt('Fan club (team) level, 0 when not a member')),
  },
  { additionalProperties: false },
);

const Emote = Type.Object(
  {
    emoteId: Text(64),
    emoteImageUrl: Type.Optional(Text(2048)),
    position: Type.Optional(NonNegativeInt('Index in the chat text where the emote stands')),
  },
  { additionalProperties: false },
);

export const ChatPayloadSchema = Type.Object(
  {
    message: Text(4096),
    emotes: Type.Optional(Type.Array(Emote, { maxItems: 256 })),
    language: Type.Optional(Text(32)),
  },
  { additionalProperties: false },
);

export const GiftPayloadSchema = Type.Object(
  {
    giftId: NonNegativeInt(),
    giftName: Text(256),
    giftCount: NonNegativeInt('Gifts in this message; for a streak, the running repeat count'),
    coins: NonNegativeInt('giftCount × diamondCount'),
    diamondCount: Type.Optional(NonNegativeInt('Price of one gift in diamonds')),
    isGiftStreak: Type.Optional(Type.Boolean({ description: 'The gift is streakable (TikTok gift type 1)' })),
    streakActive: Type.Optional(Type.Boolean({ description: 'A streak message that is not its last one' })),
    streakEnd: Type.Optional(Type.Boolean({ description: 'The last message of a streak' })),
    giftImageUrl: Type.Optional(Text(2048)),
    groupId: Type.Optional(Text(32, 'Identifies the messages of one streak (with the sender)')),
    receiverUserId: Type.Optional(Text(128, 'Who received the gift, when not the host')),
  },
  { additionalProperties: false },
);

export const LikePayloadSchema = Type.Object(
  {
    likeCount: NonNegativeInt('Likes in this message'),
    totalLikeCount: NonNegativeInt('Likes of the stream so far'),
  },
  { additionalProperties: false },
);

const socialPayload = (displayType: string) =>
  Type.Object(
    {
      displayType: Type.Literal(displayType),
      displayTextKey: Type.Optional(Text(256, 'The key TikTok sent in common.displayText.key')),
    },
    { additionalProperties: false },
  );
export const FollowPayloadSchema = socialPayload(FOLLOW_DISPLAY_TYPE);
export const SharePayloadSchema = socialPayload(SHARE_DISPLAY_TYPE);

export const JoinPayloadSchema = Type.Object(
  {
    viewerCount: Type.Optional(NonNegativeInt()),
    actionId: Type.Optional(NonNegativeInt()),
  },
  { additionalProperties: false },
);

export const SubscribePayloadSchema = Type.Object(
  { subMonth: Type.Optional(NonNegativeInt()) },
  { additionalProperties: false },
);

export const EmotePayloadSchema = Type.Object(
  {
    emoteId: Text(64),
    emoteImageUrl: Type.Optional(Text(2048)),
    emoteType: Type.Optional(NonNegativeInt()),
  },
  { additionalProperties: false },
);

export const BattleParticipantSchema = Type.Object(
  {
    userId: Text(128),
    uniqueId: Type.Optional(Text(128)),
    displayName: Type.Optional(Text(256)),
    score: Type.Optional(NonNegativeInt()),
  },
  { additionalProperties: false },
);

export const BattlePayloadSchema = Type.Object(
  {
    battleId: Type.Optional(Text(32)),
    battleStatus: Type.Optional(Type.Union([Type.Literal('STARTED'), Type.Literal('UPDATED'), Type.Literal('ENDED')])),
    participants: Type.Optional(Type.Array(BattleParticipantSchema, { maxItems: 64 })),
  },
  { additionalProperties: false },
);

export const ConnectedPayloadSchema = Type.Object(
  {
    roomId: Type.Optional(Text(64)),
    isConnected: Type.Optional(Type.Boolean()),
    provider: Type.Optional(Text(32)),
  },
  { additionalProperties: false },
);

export const DisconnectedPayloadSchema = Type.Object(
  {
    code: Type.Optional(Text(64)),
    reason: Type.Optional(Text(1024)),
    willReconnect: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ErrorPayloadSchema = Type.Object(
  {
    message: Text(4096),
    code: Type.Optional(Text(64)),
    stack: Type.Optional(Text(16384, 'Only present when the host runs with debugging on')),
  },
  { additionalProperties: false },
);

export const RawPayloadSchema = Type.Object(
  {
    rawType: Type.String({ minLength: 1, maxLength: 128 }),
    data: Type.Optional(Type.Unknown({ description: 'The decoded message, as the connector delivered it' })),
  },
  { additionalProperties: false },
);

/** One event type's shape. Every event has its payload (the normalizer always writes one, `{}` when TikTok sent nothing more). */
function eventVariant<E extends EventType, P extends TSchema>(eventType: E, payload: P) {
  return Type.Object(
    {
      schemaVersion: Type.Literal(UNIFIED_EVENT_SCHEMA_VERSION),
      eventId: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256(streamId:sessionId:seqNo:rawType), lowercase hex' }),
      eventType: Type.Literal(eventType),
      triggerId: Type.Literal(TRIGGER_IDS[eventType] as (typeof TRIGGER_IDS)[E]),
      streamId: Type.String({ minLength: 1, maxLength: 64, description: 'TikTok room id of the followed stream' }),
      sessionId: Type.String({ format: 'uuid', description: 'One per connect, reconnect or replay run' }),
      timestamp: IsoTime("TikTok's createTime, else the ingest time"),
      source: Type.Union([Type.Literal('live'), Type.Literal('replay')]),
      user: EventUserSchema,
      ingestedAt: Type.Optional(IsoTime('When the host received the message')),
      seqNo: Type.Optional(Type.String({ pattern: '^[0-9]{1,20}$', description: 'The seqNo hashed into eventId (D-013)' })),
      ingestSeq: Type.Optional(
        Type.String({ pattern: '^[0-9]{1,18}$', description: 'Receive order within the session (the raw envelope seqNo, D-017)' }),
      ),
      rawType: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Webcast message name or lifecycle name' })),
      payload,
    },
    { title: `${eventType} event`, additionalProperties: true },
  );
}

export const ChatEventSchema = eventVariant('CHAT', ChatPayloadSchema);
export const GiftEventSchema = eventVariant('GIFT', GiftPayloadSchema);
export const LikeEventSchema = eventVariant('LIKE', LikePayloadSchema);
export const FollowEventSchema = eventVariant('FOLLOW', FollowPayloadSchema);
export const ShareEventSchema = eventVariant('SHARE', SharePayloadSchema);
export const JoinEventSchema = eventVariant('JOIN', JoinPayloadSchema);
export const SubscribeEventSchema = eventVariant('SUBSCRIBE', SubscribePayloadSchema);
export const EmoteEventSchema = eventVariant('EMOTE', EmotePayloadSchema);
export const BattleEventSchema = eventVariant('BATTLE', BattlePayloadSchema);
export const ConnectedEventSchema = eventVariant('CONNECTED', ConnectedPayloadSchema);
export const DisconnectedEventSchema = eventVariant('DISCONNECTED', DisconnectedPayloadSchema);
export const ErrorEventSchema = eventVariant('ERROR', ErrorPayloadSchema);
export const RawEventSchema = eventVariant('RAW', RawPayloadSchema);

const variants = [
  ChatEventSchema,
  GiftEventSchema,
  LikeEventSchema,
  FollowEventSchema,
  ShareEventSchema,
  JoinEventSchema,
  SubscribeEventSchema,
  EmoteEventSchema,
  BattleEventSchema,
  ConnectedEventSchema,
  DisconnectedEventSchema,
  ErrorEventSchema,
  RawEventSchema,
] as const;

type VariantUnion = Static<(typeof variants)[number]>;

/**
 * The whole contract: exactly one variant per eventType, chosen by the eventType
 * discriminator, so a CHAT event with a GIFT payload is invalid.
 */
export const UnifiedEventSchema = Type.Unsafe<VariantUnion>({
  $id: UNIFIED_EVENT_SCHEMA_ID,
  title: 'UnifiedEvent v1',
  description:
    'One normalized TikTok LIVE event. The payload is discriminated by eventType; the top level is open for additions such as rawType.',
  type: 'object',
  required: ['eventType'],
  properties: { eventType: { type: 'string', enum: EVENT_TYPES } },
  discriminator: { propertyName: 'eventType' },
  oneOf: [...variants],
});

export type UnifiedEvent = Static<typeof UnifiedEventSchema>;
export type EventUser = Static<typeof EventUserSchema>;
/** The event of one type, with its payload narrowed. */
export type UnifiedEventOf<E extends EventType> = Extract<UnifiedEvent, { eventType: E }>;
export type PayloadOf<E extends EventType> = UnifiedEventOf<E>['payload'];
export type EventSource = UnifiedEvent['source'];
