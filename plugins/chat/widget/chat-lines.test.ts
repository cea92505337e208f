import { describe, expect, it } from 'vitest';
import { appendChatLine, chatPieces, mergeChatState, parseChatMessage, type ChatLine } from './chat-lines.ts';

const message = (id: string, text = `text ${id}`) => ({
  id,
  user: { uniqueId: `user_${id}`, displayName: `User ${id}`, avatarUrl: null, isModerator: false, isSubscriber: true },
  text,
  emotes: [],
  at: '2026-01-01T00:00:00.000Z',
});
const line = (id: string, shownAt = 0) => parseChatMessage(message(id), shownAt) as ChatLine;

describe('chat lines', () => {
  it('keeps markup as text', () => {
    const parsed = parseChatMessage(message('1', '<img src=x onerror=alert(1)>'), 0);
    expect(parsed?.pieces).toEqual([{ kind: 'text', text: '<img src=x onerror=alert(1)>' }]);
    expect(parsed?.isSubscriber).toBe(true);
  });

  it('falls back to the handle when there is no display name', () => {
    expect(parseChatMessage({ ...message('1'), user: { uniqueId: 'h' } }, 0)?.name).toBe('h');
  });

  it('places emotes at their positions and drops unsafe image URLs', () => {
    expect(
      chatPieces('ab cd', [
        { emoteId: 'e2', emoteImageUrl: 'https://x/2.png' },
        { emoteId: 'e1', emoteImageUrl: 'https://x/1.png', position: 2 },
        { emoteId: 'bad', emoteImageUrl: 'javascript:alert(1)', position: 0 },
      ]),
    ).toEqual([
      { kind: 'text', text: 'ab' },
      { kind: 'emote', url: 'https://x/1.png', emoteId: 'e1' },
      { kind: 'text', text: ' cd' },
      { kind: 'emote', url: 'https://x/2.png', emoteId: 'e2' },
    ]);
  });

  it('appends new lines once and keeps the newest max', () => {
    let lines: ChatLine[] = [];
    for (const id of ['1', '2', '2', '3']) lines = appendChatLine(lines, line(id), 2);
    expect(lines.map((l) => l.id)).toEqual(['2', '3']);
  });

  it('merges the state with lines that arrived after it', () => {
    const shown = [line('1', 5), line('2', 6), line('3', 7)];
    const merged = mergeChatState(shown, { messages: [message('0'), message('1'), message('2')] }, 100, 10);
    expect(merged.map((l) => l.id)).toEqual(['0', '1', '2', '3']);
    // Lines already on screen keep when they appeared (for fading).
    expect(merged[1]?.shownAt).toBe(5);
    expect(merged[0]?.shownAt).toBe(100);
  });

  it('puts lines from before a gap above a state it has nothing in common with', () => {
    const merged = mergeChatState([line('1')], { messages: [message('8'), message('9')] }, 1, 10);
    expect(merged.map((l) => l.id)).toEqual(['1', '8', '9']);
  });

  it('leaves the lines alone on a null state', () => {
    const shown = [line('1')];
    expect(mergeChatState(shown, null, 1, 10)).toBe(shown);
  });
});
