/**
 * Webcast message → event type and payload, for the object shapes that
 * tiktok-live-connector 2.x emits (tiktok-live-proto v3). Types without a
 * mapping become RAW with the decoded data kept whole (D-010).
 */
import {
  FOLLOW_DISPLAY_TYPE,
  SHARE_DISPLAY_TYPE,
  SYSTEM_USER,
  type EventType,
  type EventUser,
  type PayloadOf,
} from '@ttlp/sdk';
import { RejectionError, badField } from './rejection.ts';
import {
  compact,
  count,
  imageUrl,
  isObject,
  objectAt,
  optionalId,
  optionalInteger,
  optionalString,
  requiredString,
  type Fields,
} from './fields.ts';
import { mapUser } from './user.ts';

export type Mapped = { [E in EventType]: { eventType: E; user: EventUser; payload: PayloadOf<E> } }[EventType];

/** TikTok gift type 1 is streakable: it repeats with a growing repeatCount and ends with repeatEnd = 1. */
const STREAKABLE_GIFT_TYPE = 1;
const MEMBER_ACTION_JOINED = 1;
const MEMBER_ACTION_SUBSCRIBED = 3;
const BATTLE_ACTION_OPEN = 4;
const BATTLE_ACTIONS_FINISHED = new Set([5, 6]);

const sender = (data: Fields) => mapUser(data.user, 'data.user', data.userIdentity);

function raw(rawType: string, data: Fields): Mapped {
  let user: EventUser = { ...SYSTEM_USER };
  if (isObject(data.user)) {
    try {
      user = sender(data);
    } catch (error) {
      // RAW keeps the whole message anyway; an unreadable sender only loses the attribution.
      if (!(error instanceof RejectionError)) throw error;
    }
  }
  return { eventType: 'RAW', user, payload: { rawType, data } };
}

function chat(data: Fields): Mapped {
  const emotes = data.emotes ?? [];
  if (!Array.isArray(emotes)) throw badField('data.emotes', 'must be an array');
  return {
    eventType: 'CHAT',
    user: sender(data),
    payload: compact({
      message: optionalString(data.content, 'data.content') ?? '',
      emotes: emotes.map((entry, i) => {
        const field = `data.emotes[${i}]`;
        const withIndex = objectAt(entry, field);
        const emote = objectAt(withIndex.emote, `${field}.emote`);
        return compact({
          emoteId: requiredString(emote.emoteId, `${field}.emote.emoteId`),
          emoteImageUrl: imageUrl(emote.image, `${field}.emote.image`),
          position: optionalInteger(withIndex.index, `${field}.index`),
        });
      }),
      language: optionalString(data.contentLanguage, 'data.contentLanguage') || undefined,
    }),
  };
}

function gift(data: Fields): Mapped {
  const details = objectAt(data.gift, 'data.gift');
  const giftId = optionalInteger(data.giftId, 'data.giftId') || optionalInteger(details.id, 'data.gift.id');
  if (giftId === undefined || giftId <= 0) throw badField('data.giftId', 'is required');
  const diamondCount = count(details.diamondCount, 'data.gift.diamondCount');
  // A gift message always stands for at least one gift; streak messages carry the running count.
  const giftCount = Math.max(count(data.repeatCount, 'data.repeatCount'), 1);
  const isGiftStreak = optionalInteger(details.type, 'data.gift.type') === STREAKABLE_GIFT_TYPE;
  const streakEnd = isGiftStreak && count(data.repeatEnd, 'data.repeatEnd') === 1;
  const coins = giftCount * diamondCount;
  if (!Number.isSafeInteger(coins)) throw badField('data.repeatCount', 'gives an impossible coin total');
  return {
    eventType: 'GIFT',
    user: sender(data),
    payload: compact({
      giftId,
      giftName: requiredString(details.name, 'data.gift.name'),
      giftCount,
      coins,
      diamondCount,
      isGiftStreak,
      streakActive: isGiftStreak && !streakEnd,
      streakEnd,
      giftImageUrl: imageUrl(details.image, 'data.gift.image'),
      groupId: optionalId(data.groupId, 'data.groupId'),
      receiverUserId: optionalId(objectAt(data.toUser, 'data.toUser').id, 'data.toUser.id'),
    }),
  };
}

function like(data: Fields): Mapped {
  return {
    eventType: 'LIKE',
    user: sender(data),
    payload: {
      likeCount: count(data.count, 'data.count'),
      totalLikeCount: count(data.total, 'data.total'),
    },
  };
}

/** D-006: follow and share by substring of common.displayText.key; any other key stays RAW. */
function social(rawType: string, data: Fields): Mapped {
  const common = objectAt(data.common, 'data.common');
  const key = optionalString(objectAt(common.displayText, 'data.common.displayText').key, 'data.common.displayText.key') ?? '';
  const lowered = key.toLowerCase();
  if (lowered.includes('follow'))
    return { eventType: 'FOLLOW', user: sender(data), payload: { displayType: FOLLOW_DISPLAY_TYPE, displayTextKey: key } };
  if (lowered.includes('share'))
    return { eventType: 'SHARE', user: sender(data), payload: { displayType: SHARE_DISPLAY_TYPE, displayTextKey: key } };
  return raw(rawType, data);
}

function member(rawType: string, data: Fields): Mapped {
  const action = optionalInteger(data.action, 'data.action');
  if (action === MEMBER_ACTION_JOINED)
    return {
      eventType: 'JOIN',
      user: sender(data),
      payload: { viewerCount: count(data.memberCount, 'data.memberCount'), actionId: action },
    };
  if (action === MEMBER_ACTION_SUBSCRIBED) return { eventType: 'SUBSCRIBE', user: sender(data), payload: {} };
  return raw(rawType, data);
}

function subscribe(data: Fields): Mapped {
  const subMonth = optionalInteger(data.subMonth, 'data.subMonth');
  if (subMonth !== undefined && subMonth < 0) throw badField('data.subMonth', 'must not be negative');
  return { eventType: 'SUBSCRIBE', user: sender(data), payload: compact({ subMonth }) };
}

function emote(data: Fields): Mapped {
  const list = data.emoteList ?? [];
  if (!Array.isArray(list)) throw badField('data.emoteList', 'must be an array');
  const first = objectAt(list[0], 'data.emoteList[0]');
  return {
    eventType: 'EMOTE',
    user: sender(data),
    payload: compact({
      emoteId: requiredString(first.emoteId, 'data.emoteList[0].emoteId'),
      emoteImageUrl: imageUrl(first.image, 'data.emoteList[0].image'),
      emoteType: optionalInteger(first.emoteType, 'data.emoteList[0].emoteType'),
    }),
  };
}

/** Protobuf maps arrive either as plain objects or as arrays of {key, value}. */
function mapEntries(value: unknown, field: string): Array<[string, Fields]> {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value))
    return value.map((entry, i) => {
      const pair = objectAt(entry, `${field}[${i}]`);
      return [requiredString(pair.key, `${field}[${i}].key`), objectAt(pair.value, `${field}[${i}].value`)];
    });
  return Object.entries(objectAt(value, field)).map(([key, entry]) => [key, objectAt(entry, `${field}.${key}`)]);
}

function battle(data: Fields): Mapped {
  const action = optionalInteger(data.action, 'data.action');
  const scores = new Map(
    mapEntries(data.armies, 'data.armies').map(([anchorId, armies]) => [anchorId, count(armies.hostscore, `data.armies.${anchorId}.hostscore`)]),
  );
  const participants = mapEntries(data.anchorsInfo, 'data.anchorsInfo').map(([anchorId, info]) => {
    const user = objectAt(info.user, `data.anchorsInfo.${anchorId}.user`);
    const userId = optionalId(user.userId, `data.anchorsInfo.${anchorId}.user.userId`) ?? anchorId;
    const displayName = optionalString(user.nickName, `data.anchorsInfo.${anchorId}.user.nickName`);
    return compact({
      userId,
      uniqueId: optionalString(user.displayId, `data.anchorsInfo.${anchorId}.user.displayId`) || undefined,
      displayName: displayName || undefined,
      score: scores.get(anchorId) ?? scores.get(userId),
    });
  });
  return {
    eventType: 'BATTLE',
    user: { ...SYSTEM_USER },
    payload: compact({
      battleId: optionalId(data.battleId, 'data.battleId'),
      battleStatus:
        action === BATTLE_ACTION_OPEN ? 'STARTED' : action !== undefined && BATTLE_ACTIONS_FINISHED.has(action) ? 'ENDED' : 'UPDATED',
      participants,
    }),
  };
}

function armies(data: Fields): Mapped {
  return {
    eventType: 'BATTLE',
    user: { ...SYSTEM_USER },
    payload: compact({
      battleId: optionalId(data.battleId, 'data.battleId'),
      battleStatus: 'UPDATED',
      participants: mapEntries(data.armies, 'data.armies').map(([anchorId, entry]) => ({
        userId: anchorId,
        score: count(entry.hostscore, `data.armies.${anchorId}.hostscore`),
      })),
    }),
  };
}

const WEBCAST_MAPPERS: Record<string, (rawType: string, data: Fields) => Mapped> = {
  WebcastChatMessage: (_, data) => chat(data),
  WebcastGiftMessage: (_, data) => gift(data),
  WebcastLikeMessage: (_, data) => like(data),
  WebcastSocialMessage: social,
  WebcastMemberMessage: member,
  WebcastSubNotifyMessage: (_, data) => subscribe(data),
  WebcastEmoteChatMessage: (_, data) => emote(data),
  WebcastLinkMicBattle: (_, data) => battle(data),
  WebcastLinkMicArmies: (_, data) => armies(data),
};

export function mapWebcast(rawType: string, data: Fields): Mapped {
  const mapper = Object.hasOwn(WEBCAST_MAPPERS, rawType) ? WEBCAST_MAPPERS[rawType] : undefined;
  return mapper ? mapper(rawType, data) : raw(rawType, data);
}
