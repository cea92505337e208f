/**
 * The overlay WebSocket protocol (docs/overlay-protocol.md) on the host's side. The frames
 * are the SDK's host contract, shared with the overlays; here are
 * the host's own numbers (what the `overlay` stream carries is the bus's contract: bus/stream-contracts.ts).
 */
import { Ajv } from 'ajv';
import { ResumeFrameSchema, type PingFrame, type ResumeFrame } from '@ttlp/sdk/host-contract';

export {
  CLIENT_FRAME_MAX_BYTES,
  CLOSE_GOING_AWAY,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_TOO_SLOW,
  COUNTERS_CHANNEL,
  COUNTERS_CHANNEL_NAME,
  HOST_PUBLISHER,
  ResumeFrameSchema,
  channelKey,
  type EventFrame,
  type HelloFrame,
  type MessageFrame,
  type PingFrame,
  type ResetFrame,
  type ResumeFrame,
  type ServerFrame,
  type StateFrame,
} from '@ttlp/sdk/host-contract';

export const PROTOCOL_DEFAULTS = {
  /** Message frames each channel keeps for resuming clients. */
  bufferSize: 500,
  /** Bytes a socket may have queued (ws buffer + kernel-side backlog) before it is closed as too slow. */
  maxBufferedBytes: 1024 * 1024,
  /** Browsers cannot see WebSocket ping frames, so the server also sends a JSON ping this often. */
  pingIntervalMs: 15_000,
  /** A client that has not sent `resume` by then is treated as a fresh one. */
  resumeTimeoutMs: 5_000,
  /** A client closed as too slow is dropped this long after its close frame, read or not. */
  slowCloseGraceMs: 5_000,
  /** `host/counters` state frames are published at most this often. */
  countersIntervalMs: 250,
} as const;

const ajv = new Ajv({ strict: true, allowUnionTypes: true });
export const isResumeFrame = ajv.compile<ResumeFrame>(ResumeFrameSchema);

export const PING_TEXT = JSON.stringify({ type: 'ping' } satisfies PingFrame);
