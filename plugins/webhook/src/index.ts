/**
 * Webhook: forwards the chosen events to an https URL as POSTs signed with HMAC-SHA256, retried
 * with back-off, and kept in a dead-letter queue when they cannot be delivered. The request format
 * and the retry policy are in README.md.
 */
import { definePlugin, type EventType } from '@ttlp/sdk';
import { Forwarder } from './forwarder.ts';

type WebhookConfig = {
  url?: string;
  secret?: string;
  signatureHeader: string;
  events: EventType[];
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
};

export default definePlugin<WebhookConfig>({
  async setup(ctx) {
    const { url, secret, events, ...retries } = ctx.config;
    // The schema requires a secret with a url. Without a url the plugin can be enabled before it
    // is configured; it says so once, here, and receives no events at all.
    if (url === undefined || secret === undefined) {
      ctx.log.warn('no url is configured: no events are forwarded');
      return;
    }
    const forwarder = new Forwarder(ctx, { url, secret, ...retries });
    await forwarder.start();
    for (const eventType of events) ctx.on(eventType, (event) => forwarder.accept(event));
  },
});
