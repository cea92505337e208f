export { normalize, normalizeEnvelope, DEFAULT_MAX_ENVELOPE_BYTES, type NormalizeOptions, type NormalizeResult } from './normalize.ts';
export { computeEventId } from './event-id.ts';
export { NORMALIZE_REJECTION_CODES, type NormalizeRejection, type NormalizeRejectionCode } from './rejection.ts';
