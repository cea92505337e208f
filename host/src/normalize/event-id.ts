import { createHash } from 'node:crypto';

/** D-005: lowercase hex sha256 of `streamId:sessionId:seqNo:rawType`. */
export function computeEventId(streamId: string, sessionId: string, seqNo: string, rawType: string): string {
  return createHash('sha256').update(`${streamId}:${sessionId}:${seqNo}:${rawType}`, 'utf8').digest('hex');
}
