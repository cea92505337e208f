/** Maps the connector's v3 `User` (and the message's `userIdentity`) to the contract's user. */
import type { EventUser } from '@ttlp/sdk';
import { badField } from './rejection.ts';
import { compact, imageUrl, objectAt, optionalBoolean, optionalId, optionalInteger, optionalString } from './fields.ts';

/**
 * 0 = not following, 1 = follower, 2 = friends. `userIdentity` (relative to the host) decides;
 * without its flags, followInfo.followStatus does, where TikTok also sends values beyond 2.
 * Absent flags are false: decoded messages leave out protobuf defaults (D-018).
 */
function followRole(identity: Record<string, unknown>, user: Record<string, unknown>): 0 | 1 | 2 {
  if (optionalBoolean(identity.isMutualFollowingWithAnchor, 'data.userIdentity.isMutualFollowingWithAnchor')) return 2;
  if (optionalBoolean(identity.isFollowerOfAnchor, 'data.userIdentity.isFollowerOfAnchor')) return 1;
  const status = optionalInteger(objectAt(user.followInfo, 'user.followInfo').followStatus, 'user.followInfo.followStatus');
  return status === 1 || status === 2 ? status : 0;
}

export function mapUser(value: unknown, field: string, identityValue?: unknown): EventUser {
  const user = objectAt(value, field);
  const userId = optionalId(user.id, `${field}.id`) ?? optionalId(user.idStr, `${field}.idStr`);
  if (userId === undefined) throw badField(`${field}.id`, 'is required');
  const identity = objectAt(identityValue, 'data.userIdentity');
  const fanClub = objectAt(objectAt(user.fansClub, `${field}.fansClub`).data, `${field}.fansClub.data`);
  const moderator = optionalBoolean(identity.isModeratorOfAnchor, 'data.userIdentity.isModeratorOfAnchor');
  const subscriber =
    optionalBoolean(identity.isSubscriberOfAnchor, 'data.userIdentity.isSubscriberOfAnchor') ??
    optionalBoolean(user.isSubscribe, `${field}.isSubscribe`);
  const nickname = optionalString(user.nickname, `${field}.nickname`);
  return compact({
    userId,
    uniqueId: optionalString(user.displayId, `${field}.displayId`) ?? optionalString(user.uniqueId, `${field}.uniqueId`) ?? '',
    displayName: nickname === '' ? undefined : nickname,
    avatarUrl: imageUrl(user.avatarThumb, `${field}.avatarThumb`),
    followRole: followRole(identity, user),
    isModerator: moderator,
    isSubscriber: subscriber,
    teamMemberLevel: optionalInteger(fanClub.level, `${field}.fansClub.data.level`),
  });
}
