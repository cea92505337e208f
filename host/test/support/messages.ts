/**
 * Builds real Webcast messages for tests: encoded with tiktok-live-proto v3 (as TikTok
 * sends them) and decoded by the connector, so tests see exactly the connector's shapes.
 */
import * as proto from 'tiktok-live-proto/v3';
import { deserializeMessage } from 'tiktok-live-connector';
import type { RawEnvelope } from '@ttlp/sdk';
import { EnvelopeFactory, toJsonSafe } from '../../src/ingest/envelope.ts';

interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

/** A message of `codec` with every field at its default, then `fields` on top. */
export function withDefaults<T>(codec: MessageCodec<T>, fields: Partial<T> = {}): T {
  return { ...codec.decode(new Uint8Array()), ...fields };
}

export const common = (msgId: string, method: string, extra: Partial<proto.CommonMessageData> = {}) =>
  withDefaults(proto.CommonMessageData, { method, msgId, roomId: '7666766752591078691', createTime: '1697634624560', ...extra });

export const user = (id: string, displayId: string, nickname = `Viewer ${displayId}`) =>
  withDefaults(proto.User, {
    id,
    displayId,
    nickname,
    avatarThumb: withDefaults(proto.ImageModel, { urlList: [`https://example.invalid/avatar/${id}.webp`] }),
  });

/** Encodes `message` as `type`, then decodes it the way the connector does. */
export function roundTrip(type: string, message: unknown): Record<string, unknown> {
  const codec = (proto as unknown as Record<string, MessageCodec<unknown>>)[type];
  if (!codec) throw new Error(`tiktok-live-proto v3 has no ${type}`);
  const bytes = codec.encode(message).finish();
  return toJsonSafe(deserializeMessage(type as Parameters<typeof deserializeMessage>[0], Buffer.from(bytes))) as Record<string, unknown>;
}

export const TEST_SESSION_ID = '3b241101-e2bb-4255-8caf-4136c566a962';

/** Envelopes of one test session in room 7666766752591078691. */
export function testEnvelopes(sessionId = TEST_SESSION_ID) {
  const factory = new EnvelopeFactory('7666766752591078691', sessionId);
  return {
    webcast: (type: string, message: unknown): RawEnvelope => factory.make(type, roundTrip(type, message)),
    lifecycle: (type: string, data: Record<string, unknown>): RawEnvelope => factory.make(type, data),
  };
}

export { proto };
