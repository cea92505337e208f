/**
 * The one logger: pino. JSON lines for machines; for people at a terminal, one readable
 * line per entry (the message carries what matters, the structured fields stay in JSON).
 *
 * No secret reaches a log line: fields that hold one are censored by name (pino `redact` at the
 * top level, a log formatter below), errors and requests are serialized without what carries
 * them, and every line is scrubbed on its way out (`maskSecrets`) of URL credentials,
 * `token=`-like query parameters, bearer values and the host's own tokens, wherever a message or
 * a field quotes them.
 */
import { pino, stdSerializers, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Human-readable lines instead of JSON; default: when stdout is a terminal. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

export const REDACTED = '[redacted]';

/**
 * Field names whose values are secrets, at any depth of a log entry. `sessionId` is not one: it
 * is the stream session's UUID. TikTok's session cookie, when a provider gets one, is
 * `tiktokSessionId`.
 */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'token',
  'adminToken',
  'apiToken',
  'overlayToken',
  'sessionToken',
  'sessionCookie',
  'password',
  'secret',
  'apiKey',
  'EULER_API_KEY',
  'eulerApiKey',
  'tiktokSessionId',
  'PSEUDONYMIZATION_SECRET',
  'pseudonymizationSecret',
];

/**
 * What pino's `redact` censors: the fields at the top level and the headers of a request or
 * response. Only exact paths: a wildcard path costs pino ten times the whole log line, so
 * deeper fields are censored by `censorNested` instead.
 */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS,
  ...['headers', 'req.headers', 'res.headers', 'request.headers'].flatMap((at) => [`${at}.authorization`, `${at}.cookie`, `${at}["set-cookie"]`]),
];

const SECRET_FIELD_NAMES = new Set<string>(SECRET_FIELDS);
const NESTED_DEPTH = 8;

const isPlainObject = (value: object): boolean => {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
};

/**
 * `value` with secret fields below its top level censored; the same object when there are none
 * (nothing is copied on the common path). Plain objects and arrays only: errors and requests
 * have serializers of their own.
 */
function censorNested(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > NESTED_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, index) => {
      const censored = censorNested(item, depth + 1);
      if (censored !== item) (copy ??= [...value])[index] = censored;
    });
    return copy ?? value;
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const censored = depth > 0 && SECRET_FIELD_NAMES.has(key) && item !== undefined ? REDACTED : censorNested(item, depth + 1);
    if (censored !== item) (copy ??= { ...value })[key] = censored;
  }
  return copy ?? value;
}

const SECRET_QUERY_PARAMETERS = 'token|access_token|api_key|apikey|password|secret';

/** Ordered rewrites of anything that looks like a secret in free text. */
const MASKS: ReadonlyArray<[RegExp, string]> = [
  // scheme://user:password@host — over-masking a URL with "@" later in it is the safe mistake.
  [/\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'\\/@:]*):([^\s"'\\@]*)@/gi, '$1$2:***@'],
  [new RegExp(`([?&;](?:${SECRET_QUERY_PARAMETERS})=)[^&\\s"'#\\\\]*`, 'gi'), '$1***'],
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 ***'],
  // The host's tokens carry their kind as a prefix (store/tokens.ts), so they are found anywhere.
  [/\bttlp_(admin|api|ov|session)_[A-Za-z0-9_-]{8,}/g, '[redacted $1 token]'],
];

/** Cheap test before the rewrites: most log lines hold nothing that could be a secret. */
const MAYBE_SECRET = new RegExp(`://|ttlp_|bearer|(?:${SECRET_QUERY_PARAMETERS})=`, 'i');

/** `text` with URL credentials, secret query parameters, bearer values and ttlp tokens masked. */
export function maskSecrets(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  let masked = text;
  for (const [pattern, replacement] of MASKS) masked = masked.replace(pattern, replacement);
  return masked;
}

/** Error fields that quote what an operation carried: a raw HTTP request, a query's parameters. */
const ERROR_FIELDS_DROPPED = ['rawPacket', 'params', 'config', 'headers', 'input'];

/** pino's error serializer, without the fields above; drizzle quotes the parameters in its message too. */
function serializeError(error: unknown): unknown {
  const serialized = stdSerializers.err(error as Error) as unknown;
  if (typeof serialized !== 'object' || serialized === null || serialized === error) return serialized;
  const fields = serialized as Record<string, unknown>;
  for (const field of ERROR_FIELDS_DROPPED) delete fields[field];
  for (const field of SECRET_FIELD_NAMES) if (fields[field] !== undefined) fields[field] = REDACTED;
  for (const field of ['message', 'stack'])
    if (typeof fields[field] === 'string') fields[field] = (fields[field] as string).replace(/\nparams: [^\n]*/g, `\nparams: ${REDACTED}`);
  return serialized;
}

/** A request as a log line shows it: no headers, and the URL's query masked (overlay URLs carry tokens). */
function serializeRequest(request: { method?: string; url?: string; ip?: string }): Record<string, unknown> {
  return { method: request.method, url: typeof request.url === 'string' ? maskSecrets(request.url) : request.url, remoteAddress: request.ip };
}

/**
 * A terminal line shows the message only, so the host's messages name their subject and reason
 * themselves; a line whose words a plugin wrote (`author`, its id) starts with that plugin's id.
 */
const PRETTY_MESSAGE = '{if author}{author}: {end}{msg}';

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const wantPretty = options.pretty ?? (destination === process.stdout && process.stdout.isTTY === true);
  const stream = wantPretty
    ? pretty({
        destination,
        sync: true,
        colorize: destination === process.stdout && process.stdout.isTTY === true,
        ignore: 'pid,hostname',
        hideObject: true,
        messageFormat: PRETTY_MESSAGE,
      })
    : destination;
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      formatters: { log: (entry) => censorNested(entry, 0) as Record<string, unknown> },
      serializers: { err: serializeError, error: serializeError, req: serializeRequest },
      hooks: { streamWrite: maskSecrets },
    },
    stream,
  );
}
