/**
 * The protobuf frames the fake TikTok exchanges with the connector, encoded with the same
 * schema package the connector decodes with (tiktok-live-proto v3). Encoders need complete
 * objects, so each starts from the schema's defaults (an empty message decoded).
 */
import { gzipSync } from 'node:zlib';
import { BaseProtoMessage, ProtoMessageFetchResult, WebcastControlMessage, WebcastPushFrame, ControlAction, CommonMessageData } from 'tiktok-live-connector';

const EMPTY = new Uint8Array();

export interface OutgoingMessage {
  type: string;
  proto: Uint8Array;
}

export interface FetchResultOptions {
  cursor: string;
  internalExt: string;
  /** Where the connector opens its WebSocket (sign responses only). */
  pushServer?: string;
  /** Ask the client to acknowledge the frame carrying this result. */
  needAck?: boolean;
}

/** A ProtoMessageFetchResult: the body of a sign response, and the payload of every push frame. */
export function fetchResult(messages: readonly OutgoingMessage[], options: FetchResultOptions): Uint8Array {
  const now = Date.now();
  return ProtoMessageFetchResult.encode({
    ...ProtoMessageFetchResult.decode(EMPTY),
    messages: messages.map((message) => ({ ...BaseProtoMessage.decode(EMPTY), method: message.type, payload: Buffer.from(message.proto) })),
    cursor: options.cursor,
    internalExt: options.internalExt,
    pushServer: options.pushServer ?? '',
    needAck: options.needAck ?? false,
    fetchInterval: '1000',
    now: String(now),
  }).finish();
}

/** A `msg` push frame carrying messages, gzip-compressed as TikTok sends them. */
export function messageFrame(messages: readonly OutgoingMessage[], options: FetchResultOptions & { logId: string; seqId: string }): Uint8Array {
  return WebcastPushFrame.encode({
    ...WebcastPushFrame.decode(EMPTY),
    seqId: options.seqId,
    logId: options.logId,
    payloadEncoding: 'pb',
    payloadType: 'msg',
    headers: [{ key: 'compress_type', value: 'gzip' }],
    payload: gzipSync(fetchResult(messages, options)),
  }).finish();
}

/** A control frame with no messages: heartbeat answers and the enter-room response. */
export function controlFrame(payloadType: 'hb' | 'im_enter_room_resp'): Uint8Array {
  return WebcastPushFrame.encode({ ...WebcastPushFrame.decode(EMPTY), payloadEncoding: 'pb', payloadType, payload: Buffer.alloc(0) }).finish();
}

/** What the connector sent: heartbeats, acks and the enter-room request. */
export function readClientFrame(bytes: Uint8Array): { payloadType: string; logId: string } | undefined {
  try {
    const frame = WebcastPushFrame.decode(bytes);
    return { payloadType: frame.payloadType, logId: frame.logId };
  } catch {
    return undefined;
  }
}

/** The control message TikTok sends when the host ends the stream (action 3). */
export function streamEndMessage(roomId: string, msgId: string): OutgoingMessage {
  const proto = WebcastControlMessage.encode({
    ...WebcastControlMessage.decode(EMPTY),
    common: { ...CommonMessageData.decode(EMPTY), method: 'WebcastControlMessage', msgId, roomId, createTime: String(Date.now()) },
    action: ControlAction.CONTROL_ACTION_STREAM_ENDED,
  }).finish();
  return { type: 'WebcastControlMessage', proto };
}
