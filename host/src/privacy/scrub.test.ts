import { describe, expect, it } from 'vitest';
import { REMOVED_TEXT, discoverIdentity, scrubDocument, type ErasedPeople, type Json } from './scrub.ts';

const ERASED_ID = '7012345678901234567';
const OTHER_ID = '7098765432109876543';
const ID_PSEUDONYM = 'a'.repeat(64);
const HANDLE_PSEUDONYM = 'b'.repeat(64);

const people: ErasedPeople = {
  ids: new Map([[ERASED_ID, ID_PSEUDONYM]]),
  handles: new Map([['erased_fan', HANDLE_PSEUDONYM]]),
  nicknames: new Set(['Erased Fan']),
  profileStrings: new Set(['https://example.invalid/avatar/erased.webp']),
  removeContent: true,
};

const erasedUser = {
  id: ERASED_ID,
  idStr: ERASED_ID,
  displayId: 'erased_fan',
  nickname: 'Erased Fan',
  secUid: 'MS4wLjABAAAAerased',
  avatarThumb: { urlList: ['https://example.invalid/avatar/erased.webp'], uri: 'avatar/erased' },
  followInfo: { followingCount: 3 },
  verified: false,
  level: 12,
  rank: '3',
};

const otherUser = {
  id: OTHER_ID,
  displayId: 'other_fan',
  nickname: 'Erased Fan',
  avatarThumb: { urlList: ['https://example.invalid/avatar/other.webp'] },
};

describe('scrubDocument', () => {
  it('turns their user object into a stub: ids and handle pseudonymized, numbers and flags kept, the rest dropped', () => {
    expect(scrubDocument({ user: erasedUser }, people)).toEqual({
      user: { id: ID_PSEUDONYM, idStr: ID_PSEUDONYM, displayId: HANDLE_PSEUDONYM, verified: false, level: 12, rank: '3' },
    });
  });

  it("leaves someone else's user object alone, even when the nickname is the same", () => {
    const document = { toUser: otherUser, user: erasedUser };
    const scrubbed = scrubDocument(document, people) as { toUser: Json };
    expect(scrubbed.toUser).toBe(otherUser);
  });

  it('replaces the content they wrote, in a message or a chat embedded in a pin', () => {
    const pin = { user: otherUser, chatMessage: { user: erasedUser, content: 'my phone number is 555' }, content: 'pinned by the host' };
    expect(scrubDocument(pin, people)).toMatchObject({
      chatMessage: { content: REMOVED_TEXT },
      content: 'pinned by the host',
    });
    expect(scrubDocument(pin, { ...people, removeContent: false })).toMatchObject({ chatMessage: { content: 'my phone number is 555' } });
  });

  it('pseudonymizes a stored UnifiedEvent of theirs and removes its chat message', () => {
    const event = {
      eventType: 'CHAT',
      user: { userId: ERASED_ID, uniqueId: 'erased_fan', displayName: 'Erased Fan', followRole: 1 },
      payload: { message: 'hello', language: 'en' },
    };
    expect(scrubDocument(event, people)).toEqual({
      eventType: 'CHAT',
      user: { userId: ID_PSEUDONYM, uniqueId: HANDLE_PSEUDONYM, followRole: 1 },
      payload: { message: REMOVED_TEXT, language: 'en' },
    });
  });

  it('renames map keys that are their id and replaces exact ids, handles, nicknames and avatars', () => {
    const document = {
      armies: { [ERASED_ID]: { score: 5 }, [OTHER_ID]: { score: 7 } },
      toUserId: ERASED_ID,
      mention: '@erased_fan',
      pieces: ['Erased Fan', 'https://example.invalid/avatar/erased.webp', 'gift'],
    };
    expect(scrubDocument(document, people)).toEqual({
      armies: { [ID_PSEUDONYM]: { score: 5 }, [OTHER_ID]: { score: 7 } },
      toUserId: ID_PSEUDONYM,
      mention: `@${HANDLE_PSEUDONYM}`,
      pieces: [null, null, 'gift'],
    });
  });

  it('replaces them inside longer text only at word boundaries', () => {
    const document = {
      describe: 'Erased Fan: gifted the host 1 Rose',
      link: `sslocal://webcast?anchor_id=${ERASED_ID}&other=${ERASED_ID}9`,
      label: 'thanks @Erased_Fan and erased_fans',
      notMe: 'Erased Fanclub',
    };
    expect(scrubDocument(document, people)).toEqual({
      describe: `${REMOVED_TEXT}: gifted the host 1 Rose`,
      link: `sslocal://webcast?anchor_id=${ID_PSEUDONYM}&other=${ERASED_ID}9`,
      label: `thanks @${HANDLE_PSEUDONYM} and erased_fans`,
      notMe: 'Erased Fanclub',
    });
  });

  it('scrubs JSON kept in a string, such as a webhook body', () => {
    const body = JSON.stringify({ eventType: 'CHAT', user: { userId: ERASED_ID, uniqueId: 'erased_fan' }, payload: { message: 'hi' } });
    const scrubbed = scrubDocument({ body }, people) as { body: string };
    expect(JSON.parse(scrubbed.body)).toEqual({
      eventType: 'CHAT',
      user: { userId: ID_PSEUDONYM, uniqueId: HANDLE_PSEUDONYM },
      payload: { message: REMOVED_TEXT },
    });
  });

  it('treats JSON text that JSON.stringify did not write as text, so big numbers keep their digits', () => {
    const extra = `{"anchor_id":${ERASED_ID},"room_id":7311111111111111111}`;
    expect(scrubDocument({ extra }, people)).toEqual({ extra: `{"anchor_id":${ID_PSEUDONYM},"room_id":7311111111111111111}` });
  });

  it('returns the very same value when nothing names them', () => {
    const document = { user: otherUser, list: [1, 'two', { three: 3 }], text: 'nothing to see' };
    expect(scrubDocument(document, people)).toBe(document);
  });

  it('keeps what their user object holds about someone else', () => {
    const container = { id: ERASED_ID, nickname: 'Erased Fan', invitee: otherUser };
    expect(scrubDocument(container, people)).toEqual({ id: ID_PSEUDONYM, invitee: otherUser });
  });
});

describe('discoverIdentity', () => {
  it('finds the handles, nicknames, secUid and avatar URLs of their user objects only', () => {
    const found = discoverIdentity(
      { user: { ...erasedUser, displayId: '@erased_fan' }, toUser: otherUser, body: JSON.stringify({ user: { userId: ERASED_ID, uniqueId: 'old_handle' } }) },
      new Set([ERASED_ID]),
      { handles: new Set(), nicknames: new Set(), profileStrings: new Set() },
    );
    expect(found).toEqual({
      handles: new Set(['erased_fan', 'old_handle']),
      nicknames: new Set(['Erased Fan']),
      profileStrings: new Set(['MS4wLjABAAAAerased', 'https://example.invalid/avatar/erased.webp', 'avatar/erased']),
    });
  });
});
