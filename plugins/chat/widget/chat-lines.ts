/**
 * The chat widget's lines: the chat plugin's messages (plugins/chat/README.md) checked and cut
 * into text and emote pieces, and its state merged with the messages already shown.
 */
import { safeImageUrl } from '@ttlp/sdk/widget';

export type ChatPiece = { kind: 'text'; text: string } | { kind: 'emote'; url: string; emoteId: string };

export interface ChatLine {
  id: string;
  name: string;
  uniqueId: string;
  avatarUrl: string | null;
  isModerator: boolean;
  isSubscriber: boolean;
  pieces: ChatPiece[];
  /** When this widget first showed the line (Date.now()), for fading. */
  shownAt: number;
}

const MAX_TEXT = 1000;

export function parseChatMessage(data: unknown, now: number): ChatLine | null {
  if (data === null || typeof data !== 'object') return null;
  const message = data as Record<string, unknown>;
  if (typeof message.id !== 'string' || message.id === '' || typeof message.text !== 'string') return null;
  const user = message.user !== null && typeof message.user === 'object' ? (message.user as Record<string, unknown>) : {};
  const uniqueId = typeof user.uniqueId === 'string' ? user.uniqueId : '';
  const name = typeof user.displayName === 'string' && user.displayName.trim() !== '' ? user.displayName : uniqueId;
  return {
    id: message.id,
    name: name.slice(0, 64),
    uniqueId,
    avatarUrl: safeImageUrl(user.avatarUrl),
    isModerator: user.isModerator === true,
    isSubscriber: user.isSubscriber === true,
    pieces: chatPieces(message.text.slice(0, MAX_TEXT), Array.isArray(message.emotes) ? message.emotes : []),
    shownAt: now,
  };
}

/** Text with each emote's picture at its `position` (an index into the text); emotes without one go last. */
export function chatPieces(text: string, emotes: unknown[]): ChatPiece[] {
  const placed: Array<{ position: number; piece: ChatPiece }> = [];
  for (const emote of emotes.slice(0, 64)) {
    if (emote === null || typeof emote !== 'object') continue;
    const { emoteId, emoteImageUrl, position } = emote as Record<string, unknown>;
    const url = safeImageUrl(emoteImageUrl);
    if (url === null) continue;
    const at = typeof position === 'number' && Number.isInteger(position) ? Math.min(Math.max(position, 0), text.length) : text.length;
    placed.push({ position: at, piece: { kind: 'emote', url, emoteId: typeof emoteId === 'string' ? emoteId : '' } });
  }
  placed.sort((a, b) => a.position - b.position);
  const pieces: ChatPiece[] = [];
  let from = 0;
  for (const { position, piece } of placed) {
    if (position > from) pieces.push({ kind: 'text', text: text.slice(from, position) });
    pieces.push(piece);
    from = Math.max(from, position);
  }
  if (from < text.length) pieces.push({ kind: 'text', text: text.slice(from) });
  return pieces;
}

/** Appends `line` unless it is already shown; keeps the newest `max`. */
export function appendChatLine(lines: readonly ChatLine[], line: ChatLine, max: number): ChatLine[] {
  if (lines.some((shown) => shown.id === line.id)) return lines as ChatLine[];
  return [...lines, line].slice(-max);
}

/**
 * The plugin's state (`{messages}`, oldest first) is what a widget should show; lines that
 * arrived as messages after the state was written (newer than its last message) stay below it.
 */
export function mergeChatState(lines: readonly ChatLine[], state: unknown, now: number, max: number): ChatLine[] {
  if (state === null || typeof state !== 'object' || !Array.isArray((state as { messages?: unknown }).messages)) {
    return lines as ChatLine[];
  }
  const shown = new Map(lines.map((line) => [line.id, line]));
  const fromState: ChatLine[] = [];
  for (const message of (state as { messages: unknown[] }).messages) {
    const line = parseChatMessage(message, now);
    if (line !== null) fromState.push(shown.get(line.id) ?? line);
  }
  const inState = new Set(fromState.map((line) => line.id));
  let lastInState = -1;
  lines.forEach((line, index) => {
    if (inState.has(line.id)) lastInState = index;
  });
  // No line in common: what we show predates the state (we were away), so it goes above.
  if (lastInState === -1) return [...lines, ...fromState].slice(-max);
  const newer = lines.slice(lastInState + 1).filter((line) => !inState.has(line.id));
  return [...fromState, ...newer].slice(-max);
}
