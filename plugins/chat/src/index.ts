/**
 * Chat: the chat box feed on the `chat` overlay channel. Each accepted chat message is sent as it
 * arrives, and the last `maxMessages` are the channel's state, for widgets that connect later
 * (updated at most every `stateIntervalMs`).
 */
import { definePlugin, RecentKeys } from '@ttlp/sdk';
import { chatMessage } from './chat-message.ts';
import { ChatFeed } from './feed.ts';
import { chatFilter, type ChatFilterSettings } from './filters.ts';

export interface ChatConfig extends ChatFilterSettings {
  maxMessages: number;
  stateIntervalMs: number;
}

export const CHAT_CHANNEL = 'chat';

/** Event ids remembered to drop re-delivered messages (TikTok and the bus may deliver one twice). */
const SEEN_EVENTS_KEPT = 2000;

export default definePlugin<ChatConfig>({
  setup(ctx) {
    const accepts = chatFilter(ctx.config);
    const feed = new ChatFeed(ctx.config.maxMessages);
    const seen = new RecentKeys(SEEN_EVENTS_KEPT);
    // The state only serves widgets that connect later, and it is the whole feed: writing it for
    // every message of a busy chat would cost far more than the messages themselves.
    let stateDue = false;
    const publishState = () => {
      stateDue = false;
      return ctx.overlay.setState(CHAT_CHANNEL, { messages: feed.messages });
    };

    // Synchronous (nothing to wait for: the host records a refused send as a fault), so the host
    // can hand this plugin many chat events in one entry.
    ctx.on('CHAT', (event) => {
      const message = chatMessage(event);
      if (!message || !accepts(event.user, message.text) || !seen.add(event.eventId)) return;
      feed.add(message);
      void ctx.overlay.send(CHAT_CHANNEL, message);
      if (!stateDue) {
        stateDue = true;
        ctx.setTimeout(publishState, ctx.config.stateIntervalMs);
      }
    });
  },
});
