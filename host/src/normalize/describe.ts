/** One human-readable line per event, for logs and the live feed. */
import type { UnifiedEvent } from '@ttlp/sdk';

export function describeEvent(event: UnifiedEvent): string {
  const who = event.user.uniqueId ? `@${event.user.uniqueId}` : event.user.userId;
  switch (event.eventType) {
    case 'CHAT':
      return `${who}: ${event.payload.message}`;
    case 'GIFT': {
      const gift = event.payload;
      const state = gift.streakActive ? ' (streak running)' : gift.streakEnd ? ' (streak ended)' : '';
      return `${who} sent ${gift.giftName} ×${gift.giftCount} = ${gift.coins} ${gift.coins === 1 ? 'coin' : 'coins'}${state}`;
    }
    case 'LIKE':
      return `${who} liked ×${event.payload.likeCount} (total ${event.payload.totalLikeCount})`;
    case 'FOLLOW':
      return `${who} followed`;
    case 'SHARE':
      return `${who} shared the LIVE`;
    case 'JOIN':
      return `${who} joined (${event.payload.viewerCount ?? '?'} viewers)`;
    case 'SUBSCRIBE':
      return `${who} subscribed${event.payload.subMonth ? ` (month ${event.payload.subMonth})` : ''}`;
    case 'EMOTE':
      return `${who} sent emote ${event.payload.emoteId}`;
    case 'BATTLE':
      return `battle ${event.payload.battleId ?? ''} ${event.payload.battleStatus ?? 'UPDATED'}`;
    case 'CONNECTED':
      return `connected to room ${event.payload.roomId ?? event.streamId} (${event.payload.provider ?? 'provider'})`;
    case 'DISCONNECTED':
      return `disconnected: ${event.payload.reason ?? 'no reason given'}${event.payload.willReconnect ? ', reconnecting' : ''}`;
    case 'ERROR':
      return `provider error: ${event.payload.message}`;
    case 'RAW':
      return `${event.rawType ?? event.payload.rawType}`;
  }
}
