import type { UnifiedEvent } from '@ttlp/sdk';

const str = (value: unknown): string => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');

/** One line saying what happened, for the live feed and the session viewer (plain text). */
export function summarizeEvent(event: UnifiedEvent): string {
  switch (event.eventType) {
    case 'CHAT':
      return str(event.payload?.message);
    case 'GIFT': {
      const p = event.payload;
      const streak = p?.streakActive === true ? ' (streak…)' : p?.streakEnd === true ? ' (streak end)' : '';
      return `${str(p?.giftName) || 'gift'} ×${str(p?.giftCount) || '1'} — ${str(p?.coins) || '0'} coins${streak}`;
    }
    case 'LIKE':
      return `${str(event.payload?.likeCount)} likes (total ${str(event.payload?.totalLikeCount)})`;
    case 'FOLLOW':
      return 'followed';
    case 'SHARE':
      return 'shared the stream';
    case 'JOIN':
      return event.payload?.viewerCount === undefined ? 'joined' : `joined (${str(event.payload.viewerCount)} viewers)`;
    case 'SUBSCRIBE':
      return event.payload?.subMonth === undefined ? 'subscribed' : `subscribed (month ${str(event.payload.subMonth)})`;
    case 'EMOTE':
      return `emote ${str(event.payload?.emoteId)}`;
    case 'BATTLE':
      return `battle ${str(event.payload?.battleStatus).toLowerCase() || 'update'}`;
    case 'CONNECTED': {
      const p = event.payload;
      return `connected${p?.roomId ? ` to room ${str(p.roomId)}` : ''}${p?.provider ? ` via ${str(p.provider)}` : ''}`;
    }
    case 'DISCONNECTED': {
      const p = event.payload;
      return `disconnected${p?.reason ? `: ${str(p.reason)}` : ''}${p?.willReconnect === true ? ' (reconnecting)' : ''}`;
    }
    case 'ERROR':
      return str(event.payload?.message);
    case 'RAW':
      return str(event.payload?.rawType) || str(event.rawType);
    default:
      // Frames are read from the network: an event type this page does not know yet shows no summary.
      return '';
  }
}

export function userLabel(event: UnifiedEvent): string {
  const { displayName, uniqueId } = event.user ?? { uniqueId: '' };
  return displayName && displayName !== uniqueId ? `${displayName} @${uniqueId}` : `@${uniqueId ?? ''}`;
}

export function timeOfDay(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString();
}

export function dateTime(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
