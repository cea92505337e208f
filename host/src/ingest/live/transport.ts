/**
 * What a live provider's connection layer (the connector for `direct`, Euler's relay for
 * `euler`) offers the follower loop in live-provider.ts, which owns sessions, reconnects and
 * lifecycle envelopes. A transport connects once per call and reports how the connection ended.
 */

/** One decoded Webcast message as the connector's v3 schema decodes it. */
export interface LiveMessage {
  /** Webcast message type, e.g. `WebcastGiftMessage`. */
  type: string;
  /** The decoded message, JSON-safe (see toJsonSafe). */
  data: Record<string, unknown>;
  /** The message's own protobuf bytes, when the transport has them (recording needs them). */
  proto?: Uint8Array;
  receivedAt: Date;
}

/** A message the transport received but could not decode; it becomes a dead letter. */
export interface LiveRejection {
  code: 'LIVE_DECODE_FAILED' | 'LIVE_UNKNOWN_TYPE' | 'LIVE_BAD_FRAME';
  message: string;
  /** Webcast type when known. */
  type?: string;
  /** The undecodable bytes, base64, bounded in size. */
  proto?: string;
}

export interface LiveHandlers {
  onMessage(message: LiveMessage): void;
  onRejected(rejection: LiveRejection): void;
  /** An error while connected that does not end the connection. */
  onError(error: { message: string; code?: string }): void;
}

export interface LiveClose {
  reason: string;
  code?: string | number;
  /** TikTok ended (or suspended) the stream: wait for the next live instead of reconnecting. */
  streamEnded: boolean;
}

export interface LiveConnection {
  /** The room connected to; the session's stream id. */
  readonly roomId: string;
  /** Settles once, when the connection ends for any reason. */
  readonly closed: Promise<LiveClose>;
  /** Closes the connection (the host is stopping); `closed` settles afterwards. */
  close(): Promise<void>;
}

export interface LiveTransport {
  readonly name: 'direct' | 'euler';
  /** The TikTok user followed, without @. */
  readonly user: string;
  /**
   * Connects to the user's live room. Messages may reach `handlers` before the promise
   * resolves (the first batch arrives with the connect response). Rejects with a
   * LiveConnectError that says whether and when to try again.
   */
  connect(handlers: LiveHandlers, signal: AbortSignal): Promise<LiveConnection>;
}

/**
 * Why a connection attempt failed, as the follower acts on it:
 * - `offline`: the user is not live; poll until they are;
 * - `rate-limited`: the sign server or relay refused for now; wait `retryAfterMs` (or back off);
 * - `fatal`: configuration the user must fix (bad API key, no permission); stop following;
 * - `transient`: anything else; back off and try again.
 */
export type LiveFailureKind = 'offline' | 'rate-limited' | 'fatal' | 'transient';

export class LiveConnectError extends Error {
  constructor(
    readonly kind: LiveFailureKind,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'LiveConnectError';
  }
}

/** Longest base64 of undecodable bytes kept in a dead letter. */
export const MAX_REJECTED_PROTO_CHARS = 64 * 1024;

export function rejectedBytes(bytes: Uint8Array | undefined): string | undefined {
  if (!bytes || bytes.byteLength === 0) return undefined;
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return base64.length > MAX_REJECTED_PROTO_CHARS ? undefined : base64;
}
