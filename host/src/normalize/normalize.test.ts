import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { validateUnifiedEvent, type UnifiedEvent } from '@ttlp/sdk/contract';
import { common, proto, testEnvelopes, user, withDefaults } from '../../test/support/messages.ts';
import { normalize, normalizeEnvelope, type NormalizeResult } from './normalize.ts';

const { webcast, lifecycle } = testEnvelopes();

function ok(result: NormalizeResult): UnifiedEvent {
  if (!result.ok) throw new Error(`rejected: ${result.rejection.code} ${result.rejection.message}`);
  expect(validateUnifiedEvent(result.event).ok).toBe(true);
  return result.event;
}

function rejected(result: NormalizeResult) {
  if (result.ok) throw new Error(`expected a rejection, got ${result.event.eventType}`);
  expect(result.rejection.message).not.toBe('');
  return result.rejection;
}

const identity = (fields: Partial<proto.UserIdentity>) => withDefaults(proto.UserIdentity, fields);

describe('Webcast messages not present in the captures', () => {
  it('EMOTE from WebcastEmoteChatMessage', () => {
    const event = ok(
      normalize(
        webcast(
          'WebcastEmoteChatMessage',
          withDefaults(proto.WebcastEmoteChatMessage, {
            common: common('101', 'WebcastEmoteChatMessage'),
            user: user('11', 'fan_one'),
            emoteList: [
              withDefaults(proto.EmoteModel, {
                emoteId: '7104912395',
                emoteType: 1,
                image: withDefaults(proto.ImageModel, { urlList: ['https://example.invalid/emote.png'] }),
              }),
            ],
          }),
        ),
      ),
    );
    expect(event).toMatchObject({
      eventType: 'EMOTE',
      triggerId: 8,
      user: { userId: '11', uniqueId: 'fan_one' },
      payload: { emoteId: '7104912395', emoteImageUrl: 'https://example.invalid/emote.png', emoteType: 1 },
    });
  });

  it('BATTLE from WebcastLinkMicBattle with participants and scores', () => {
    const battle = (action: number) =>
      ok(
        normalize(
          webcast(
            'WebcastLinkMicBattle',
            withDefaults(proto.WebcastLinkMicBattle, {
              common: common(`20${action}`, 'WebcastLinkMicBattle'),
              battleId: '7300000000000000001',
              action,
              anchorsInfo: [
                {
                  key: '501',
                  value: withDefaults(proto.BattleUserInfo, {
                    user: withDefaults(proto.BattleBaseUserInfo, { userId: '501', nickName: 'Host A', displayId: 'host_a' }),
                  }),
                },
                {
                  key: '502',
                  value: withDefaults(proto.BattleUserInfo, {
                    user: withDefaults(proto.BattleBaseUserInfo, { userId: '502', nickName: 'Host B', displayId: 'host_b' }),
                  }),
                },
              ],
              armies: [
                { key: '501', value: withDefaults(proto.BattleUserArmies, { hostscore: '120' }) },
                { key: '502', value: withDefaults(proto.BattleUserArmies, { hostscore: '95' }) },
              ],
            }),
          ),
        ),
      );
    const started = battle(4);
    expect(started).toMatchObject({
      eventType: 'BATTLE',
      triggerId: 9,
      user: { userId: '0', uniqueId: 'system' },
      payload: {
        battleId: '7300000000000000001',
        battleStatus: 'STARTED',
        participants: [
          { userId: '501', uniqueId: 'host_a', displayName: 'Host A', score: 120 },
          { userId: '502', uniqueId: 'host_b', displayName: 'Host B', score: 95 },
        ],
      },
    });
    expect(battle(5).payload).toMatchObject({ battleStatus: 'ENDED' });
    expect(battle(1).payload).toMatchObject({ battleStatus: 'UPDATED' });
  });

  it('BATTLE from WebcastLinkMicArmies score updates', () => {
    const event = ok(
      normalize(
        webcast(
          'WebcastLinkMicArmies',
          withDefaults(proto.WebcastLinkMicArmies, {
            common: common('301', 'WebcastLinkMicArmies'),
            battleId: '7300000000000000001',
            armies: { '501': withDefaults(proto.BattleUserArmies, { hostscore: '130' }) },
          }),
        ),
      ),
    );
    expect(event.payload).toEqual({ battleId: '7300000000000000001', battleStatus: 'UPDATED', participants: [{ userId: '501', score: 130 }] });
  });

  it('SUBSCRIBE from member action 3 and from WebcastSubNotifyMessage', () => {
    const member = ok(
      normalize(
        webcast('WebcastMemberMessage', withDefaults(proto.WebcastMemberMessage, { common: common('401', 'WebcastMemberMessage'), user: user('12', 'sub'), action: 3 })),
      ),
    );
    expect(member).toMatchObject({ eventType: 'SUBSCRIBE', triggerId: 7, user: { userId: '12' } });
    const notify = ok(
      normalize(
        webcast(
          'WebcastSubNotifyMessage',
          withDefaults(proto.WebcastSubNotifyMessage, { common: common('402', 'WebcastSubNotifyMessage'), user: user('12', 'sub'), subMonth: '3' }),
        ),
      ),
    );
    expect(notify).toMatchObject({ eventType: 'SUBSCRIBE', payload: { subMonth: 3 } });
  });

  it('a social message with an unknown key stays RAW with its data (D-006, D-010)', () => {
    const envelope = webcast(
      'WebcastSocialMessage',
      withDefaults(proto.WebcastSocialMessage, {
        common: common('501', 'WebcastSocialMessage', { displayText: withDefaults(proto.MessageCommonText, { key: 'pm_mt_guidance_viewer_repost' }) }),
        user: user('13', 'reposter'),
      }),
    );
    const event = ok(normalize(envelope));
    expect(event).toMatchObject({ eventType: 'RAW', triggerId: 13, rawType: 'WebcastSocialMessage', user: { userId: '13' } });
    expect(event.payload).toEqual({ rawType: 'WebcastSocialMessage', data: envelope.data });
  });

  it('reads follow role, moderator and subscriber flags from userIdentity, and the fan club level', () => {
    const sender = { ...user('14', 'mod'), fansClub: withDefaults(proto.FansClubMember, { data: withDefaults(proto.FansClubData, { level: 7 }) }) };
    const chat = (fields: Partial<proto.UserIdentity>) =>
      ok(
        normalize(
          webcast(
            'WebcastChatMessage',
            withDefaults(proto.WebcastChatMessage, {
              common: common(`60${Object.keys(fields).length}`, 'WebcastChatMessage'),
              user: sender,
              content: 'hello 👋',
              userIdentity: identity(fields),
            }),
          ),
        ),
      );
    expect(chat({ isMutualFollowingWithAnchor: true, isFollowerOfAnchor: true, isModeratorOfAnchor: true }).user).toEqual({
      userId: '14',
      uniqueId: 'mod',
      displayName: 'Viewer mod',
      avatarUrl: 'https://example.invalid/avatar/14.webp',
      followRole: 2,
      isModerator: true,
      teamMemberLevel: 7,
    });
    expect(chat({ isFollowerOfAnchor: true }).user.followRole).toBe(1);
    expect(chat({}).user.followRole).toBe(0);
  });
});

describe('seqNo and eventId (D-005, D-013)', () => {
  it('falls back to the envelope seqNo when the message has no msgId', () => {
    const envelope = webcast(
      'WebcastLikeMessage',
      withDefaults(proto.WebcastLikeMessage, { common: common('0', 'WebcastLikeMessage'), user: user('15', 'liker'), count: 3, total: '10' }),
    );
    const event = ok(normalize(envelope));
    expect(event.seqNo).toBe(envelope.seqNo);
    const expected = createHash('sha256').update(`${envelope.streamId}:${envelope.sessionId}:${envelope.seqNo}:WebcastLikeMessage`).digest('hex');
    expect(event.eventId).toBe(expected);
    expect(event.payload).toEqual({ likeCount: 3, totalLikeCount: 10 });
  });

  it('gives distinct messages without msgIds distinct eventIds', () => {
    const like = () =>
      ok(normalize(webcast('WebcastLikeMessage', withDefaults(proto.WebcastLikeMessage, { common: common('0', 'WebcastLikeMessage'), user: user('15', 'liker'), count: 1 }))));
    expect(like().eventId).not.toBe(like().eventId);
  });

  it('takes createTime in seconds as well as milliseconds, else the envelope time', () => {
    const room = (createTime: string) =>
      ok(normalize(webcast('WebcastRoomMessage', withDefaults(proto.WebcastRoomMessage, { common: common('701', 'WebcastRoomMessage', { createTime }) }))));
    expect(room('1701789148').timestamp).toBe('2023-12-05T15:12:28.000Z');
    expect(room('1701789148123').timestamp).toBe('2023-12-05T15:12:28.123Z');
    const fallback = webcast('WebcastRoomMessage', withDefaults(proto.WebcastRoomMessage, { common: common('702', 'WebcastRoomMessage', { createTime: '0' }) }));
    expect(ok(normalize(fallback)).timestamp).toBe(fallback.timestamp);
  });
});

describe('lifecycle events', () => {
  it('CONNECTED and DISCONNECTED carry the system user', () => {
    const connected = ok(normalize(lifecycle('connected', { roomId: '7666766752591078691', provider: 'direct' })));
    expect(connected).toMatchObject({
      eventType: 'CONNECTED',
      triggerId: 10,
      user: { userId: '0', uniqueId: 'system' },
      rawType: 'connected',
      payload: { roomId: '7666766752591078691', provider: 'direct', isConnected: true },
    });
    const disconnected = ok(normalize(lifecycle('disconnected', { code: 1006, reason: 'socket closed', willReconnect: true })));
    expect(disconnected).toMatchObject({ eventType: 'DISCONNECTED', triggerId: 11, payload: { code: '1006', reason: 'socket closed', willReconnect: true } });
  });

  it('ERROR drops the stack unless debugging is on', () => {
    const envelope = lifecycle('error', { message: 'sign server said no', code: 'SIGN_API_ERROR', stack: 'Error: sign server said no\n    at secret.ts:1' });
    expect(ok(normalize(envelope)).payload).toEqual({ message: 'sign server said no', code: 'SIGN_API_ERROR' });
    expect(ok(normalize(envelope, { debug: true })).payload).toMatchObject({ stack: expect.stringContaining('secret.ts') });
  });
});

describe('bad input gets a typed rejection', () => {
  const chat = webcast(
    'WebcastChatMessage',
    withDefaults(proto.WebcastChatMessage, { common: common('801', 'WebcastChatMessage'), user: user('16', 'chatter'), content: 'hi' }),
  );

  it.each([null, 42, 'text', [chat], undefined])('not an object: %j', (input) => {
    expect(rejected(normalize(input)).code).toBe('NORMALIZE_NOT_OBJECT');
  });

  it('missing type', () => {
    const { type: _type, ...withoutType } = chat;
    const rejection = rejected(normalize(withoutType));
    expect(rejection.code).toBe('NORMALIZE_BAD_ENVELOPE');
    expect(rejection.message).toContain("'type'");
  });

  it('wrong envelope field types', () => {
    expect(rejected(normalize({ ...chat, sessionId: 'not-a-uuid' })).code).toBe('NORMALIZE_BAD_ENVELOPE');
    expect(rejected(normalize({ ...chat, seqNo: 5 })).code).toBe('NORMALIZE_BAD_ENVELOPE');
    expect(rejected(normalize({ ...chat, schemaVersion: 'raw.v2' })).code).toBe('NORMALIZE_BAD_ENVELOPE');
  });

  it('wrong field types inside the message name the field', () => {
    const rejection = rejected(normalize({ ...chat, data: { ...chat.data, content: 5 } }));
    expect(rejection).toEqual({ code: 'NORMALIZE_BAD_FIELD', message: 'data.content must be a string', rawType: 'WebcastChatMessage' });
    expect(rejected(normalize({ ...chat, data: { ...chat.data, user: 'someone' } })).code).toBe('NORMALIZE_BAD_FIELD');
    expect(rejected(normalize({ ...chat, data: { ...chat.data, user: undefined } })).message).toBe('data.user.id is required');
    expect(rejected(normalize({ ...chat, data: { ...chat.data, common: { msgId: 'abc' } } })).message).toBe('data.common.msgId must be a decimal id');
    expect(rejected(normalize({ ...chat, data: { ...chat.data, common: { msgId: '9', createTime: '99999999999999999' } } })).code).toBe(
      'NORMALIZE_BAD_FIELD',
    );
  });

  it('a gift without a name or id', () => {
    const gift = webcast(
      'WebcastGiftMessage',
      withDefaults(proto.WebcastGiftMessage, {
        common: common('901', 'WebcastGiftMessage'),
        user: user('17', 'gifter'),
        giftId: '5655',
        repeatCount: 2,
        gift: withDefaults(proto.Gift, { id: '5655', name: 'Rose', diamondCount: 1, type: 1 }),
      }),
    );
    expect(ok(normalize(gift)).payload).toMatchObject({ giftId: 5655, giftName: 'Rose', giftCount: 2, coins: 2, streakActive: true });
    const data = gift.data as { gift: Record<string, unknown> };
    expect(rejected(normalize({ ...gift, data: { ...gift.data, gift: { ...data.gift, name: '' } } })).message).toBe('data.gift.name is required');
    expect(rejected(normalize({ ...gift, data: { ...gift.data, giftId: '0', gift: { ...data.gift, id: '0' } } })).message).toBe(
      'data.giftId is required',
    );
    expect(rejected(normalize({ ...gift, data: { ...gift.data, repeatCount: -1 } })).message).toBe('data.repeatCount must not be negative');
  });

  it('absurd sizes and nesting', () => {
    const huge = { ...chat, data: { ...chat.data, content: 'x'.repeat(2 * 1024 * 1024) } };
    expect(rejected(normalize(huge)).code).toBe('NORMALIZE_TOO_LARGE');
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100_000; i++) deep = (deep.next = {}) as Record<string, unknown>;
    expect(rejected(normalize({ ...chat, data: root })).code).toBe('NORMALIZE_TOO_LARGE');
    const long = { ...chat, data: { ...chat.data, content: 'y'.repeat(5000) } };
    expect(rejected(normalize(long)).code).toBe('NORMALIZE_BAD_EVENT');
  });

  it('takes a size the caller already measured instead of serializing the envelope again', () => {
    expect(rejected(normalize(chat, { knownSize: 2 * 1024 * 1024 })).code).toBe('NORMALIZE_TOO_LARGE');
    expect(normalize(chat, { knownSize: JSON.stringify(chat).length }).ok).toBe(true);
  });

  it('maps an envelope the bus already admitted as raw.v1 like any other, size limit included', () => {
    expect(normalizeEnvelope(chat)).toEqual(normalize(chat));
    expect(rejected(normalizeEnvelope(chat, { knownSize: 2 * 1024 * 1024 })).code).toBe('NORMALIZE_TOO_LARGE');
    expect(rejected(normalizeEnvelope({ ...chat, data: { ...chat.data, content: 42 } })).code).toBe('NORMALIZE_BAD_FIELD');
  });

  it('cyclic data', () => {
    const data: Record<string, unknown> = { ...chat.data };
    data.self = data;
    expect(rejected(normalize({ ...chat, data })).code).toBe('NORMALIZE_BAD_ENVELOPE');
  });
});
