/** What an attempt's answer means for the delivery, and how long to wait before the next one. */

export type AttemptResult = { outcome: 'delivered' } | { outcome: 'retry' | 'failed'; error: string };

/** Characters of a failed answer's body kept in `lastError`: enough to recognise the receiver's message. */
const ERROR_BODY_CHARS = 200;

/** 2xx is delivered; 429 and 5xx may pass later; any other status will not change by sending again. */
export function resultOfStatus(status: number, body: string): AttemptResult {
  if (status >= 200 && status < 300) return { outcome: 'delivered' };
  const snippet = body.trim().slice(0, ERROR_BODY_CHARS);
  const error = snippet === '' ? `HTTP ${status}` : `HTTP ${status}: ${snippet}`;
  return { outcome: status === 429 || status >= 500 ? 'retry' : 'failed', error };
}

/**
 * The host refuses a URL that no granted pattern matches before anything is sent (with this
 * message, from the SDK sandbox), and it will refuse it again; every other failure to get an
 * answer (DNS, connection, timeout) is treated as the network's and retried.
 */
const REFUSED_BY_GRANTS = /^not allowed to fetch /;

export function resultOfError(message: string): AttemptResult {
  return { outcome: REFUSED_BY_GRANTS.test(message) ? 'failed' : 'retry', error: message };
}

/**
 * The wait after `attempts` failed attempts: `initialMs × 2^(attempts-1)`, ±20 % so that the
 * retries of events that failed together spread out, and at most `maxMs`.
 */
export function retryDelayMs(attempts: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const jitter = 0.8 + 0.4 * random();
  return Math.round(Math.min(maxMs, initialMs * 2 ** (attempts - 1) * jitter));
}
