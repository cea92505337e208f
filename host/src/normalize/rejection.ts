/** Typed rejections: the normalizer never throws, it answers with one of these. */

export const NORMALIZE_REJECTION_CODES = [
  /** The input is not a JSON object. */
  'NORMALIZE_NOT_OBJECT',
  /** The input is larger or deeper than any real message. */
  'NORMALIZE_TOO_LARGE',
  /** The envelope does not match raw.v1 (missing type, bad sessionId, …). */
  'NORMALIZE_BAD_ENVELOPE',
  /** A field of the decoded message has the wrong type or is missing. */
  'NORMALIZE_BAD_FIELD',
  /** The event built from the message does not satisfy UnifiedEvent v1. */
  'NORMALIZE_BAD_EVENT',
  /** A defect in the normalizer itself; the message is kept for analysis. */
  'NORMALIZE_INTERNAL',
] as const;

export type NormalizeRejectionCode = (typeof NORMALIZE_REJECTION_CODES)[number];

export interface NormalizeRejection {
  code: NormalizeRejectionCode;
  message: string;
  /** Envelope type, when the envelope got far enough to have one. */
  rawType?: string;
}

/** Thrown inside the normalizer only; `normalize()` turns it into a rejection. */
export class RejectionError extends Error {
  constructor(
    readonly code: NormalizeRejectionCode,
    message: string,
  ) {
    super(message);
    this.name = 'RejectionError';
  }
}

export function badField(field: string, problem: string): RejectionError {
  return new RejectionError('NORMALIZE_BAD_FIELD', `${field} ${problem}`);
}
