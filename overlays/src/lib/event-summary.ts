import type { UnifiedEvent } from './api-types.ts';

const str = (value: unknown): string => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');

/** One line saying what happened, for the live feed and the session viewer (plain text). */
export function summarizeEvent(event: UnifiedEvent): string {
  const p = event.payload ?? {};
  switch (event.eventType) {
    case 'CHAT':
      return str(p.message);
    case 'GIFT': {
      const streak = p.streakActive === true ? ' (streak…)' : p.streakEnd === true ? ' (streak end)' : '';
      return `${str(p.giftName) || 'gift'} ×${str(p.giftCount) || '1'} — ${str(p.coins) || '0'} coins${streak}`;
    }
    case 'LIKE':
      return `${str(p.likeCount)} likes (total ${str(p.totalLikeCount)})`;
    case 'FOLLOW':
      return 'followed';
    case 'SHARE':
      return 'shared the stream';
    case 'JOIN':
      return p.viewerCount === undefined ? 'joined' : `joined (${str(p.viewerCount)} viewers)`;
    case 'SUBSCRIBE':
      return p.subMonth === undefined ? 'subscribed' : `subscribed (month ${str(p.subMonth)})`;
    case 'EMOTE':
      return `emote ${str(p.emoteId)}`;
    case 'BATTLE':
      return `battle ${str(p.battleStatus).toLowerCase() || 'update'}`;
    case 'CONNECTED':
      return `connected${p.roomId ? ` to room ${str(p.roomId)}` : ''}${p.provider ? ` via ${str(p.provider)}` : ''}`;
    case 'DISCONNECTED':
      return `disconnected${p.reason ? `: ${str(p.reason)}` : ''}${p.willReconnect === true ? ' (reconnecting)' : ''}`;
    case 'ERROR':
      return str(p.message);
    case 'RAW':
      return str(p.rawType) || str(event.rawType);
    default:
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
