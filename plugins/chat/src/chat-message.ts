import type { PayloadOf, UnifiedEventOf } from '@ttlp/sdk';

type Emote = NonNullable<PayloadOf<'CHAT'>['emotes']>[number];

/** What the plugin sends on the `chat` overlay channel (see README.md). */
export type ChatMessage = {
  /** The event's eventId. */
  id: string;
  user: { uniqueId: string; displayName: string; avatarUrl: string | null; isModerator: boolean; isSubscriber: boolean };
  /** As typed in the chat: plain text, to be shown as text, never as HTML. */
  text: string;
  /** Emotes as TikTok sent them; `position` is the index in `text` where one stands. */
  emotes: Emote[];
  /** The event's timestamp (ISO 8601). */
  at: string;
};

/** The overlay message for a chat event; undefined for one without a payload (nothing to show). */
export function chatMessage(event: UnifiedEventOf<'CHAT'>): ChatMessage | undefined {
  if (!event.payload) return undefined;
  const { user } = event;
  return {
    id: event.eventId,
    user: {
      uniqueId: user.uniqueId,
      displayName: user.displayName || user.uniqueId,
      avatarUrl: user.avatarUrl ?? null,
      isModerator: user.isModerator ?? false,
      isSubscriber: user.isSubscriber ?? false,
    },
    text: event.payload.message,
    emotes: event.payload.emotes ?? [],
    at: event.timestamp,
  };
}
