/**
 * Host configuration: environment variables and command-line flags, validated once at
 * start with every problem listed, typed afterwards. `.env.example` documents each one;
 * every command reads the same variables with the same meaning.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { Ajv } from 'ajv';
import { LOG_FORMATS, LOG_LEVELS } from './log.ts';

const PositiveInt = (maximum: number) => Type.Integer({ minimum: 1, maximum });

/** Each setting: its environment variable, the flag that overrides it, its schema and default. */
const SETTINGS = {
  logLevel: { env: 'LOG_LEVEL', flag: '--log-level', schema: Type.Enum(LOG_LEVELS), default: 'info' },
  logFormat: { env: 'LOG_FORMAT', flag: '--log-format', schema: Type.Enum(LOG_FORMATS), default: 'auto' },
  /** TikTok users to follow (without @), comma-separated in the environment; none = demo provider. */
  tiktokUsers: {
    env: 'TIKTOK_USERNAME',
    flag: '--user',
    schema: Type.Array(Type.String({ pattern: '^[A-Za-z0-9._]{1,64}$' }), { maxItems: 32 }),
    default: [],
  },
  /** How live users are followed (D-004): the connector talking to TikTok, or Euler Stream's relay. */
  provider: { env: 'TIKTOK_PROVIDER', flag: '--provider', schema: Type.Enum(['direct', 'euler']), default: 'direct' },
  /** TikTok's web and webcast hosts, for a fake (`ttlp fake-tiktok`) or a mirror; http only. */
  tiktokUrl: { env: 'TIKTOK_URL', flag: '--tiktok-url', schema: Type.String({ pattern: '^http://[^/?#@\\s]+/?$' }), default: undefined },
  /** Euler Stream's sign server (direct provider); by default the TikTok URL when one is given, else Euler's. */
  signApiUrl: { env: 'SIGN_API_URL', flag: undefined, schema: Type.String({ pattern: '^https?://' }), default: undefined },
  /** Euler Stream API key: the sign server's (direct) or the relay's (euler, required). */
  eulerApiKey: { env: 'EULER_API_KEY', flag: undefined, schema: Type.String({ minLength: 1, maxLength: 512 }), default: undefined },
  /** Euler Stream's WebSocket relay (euler provider). */
  eulerWsUrl: { env: 'EULER_WS_URL', flag: undefined, schema: Type.String({ pattern: '^wss?://' }), default: 'wss://ws.eulerstream.com' },
  /** A logged-in TikTok session (cookie `sessionid`) and its `tt-target-idc`; both or neither. */
  tiktokSessionId: { env: 'TIKTOK_SESSION_ID', flag: undefined, schema: Type.String({ minLength: 1, maxLength: 512 }), default: undefined },
  tiktokTargetIdc: { env: 'TIKTOK_TARGET_IDC', flag: undefined, schema: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), default: undefined },
  /** HTTP(S) proxy for every connection to TikTok, the sign server and the relay. */
  proxy: { env: 'TIKTOK_PROXY', flag: '--proxy', schema: Type.String({ pattern: '^https?://' }), default: undefined },
  /** How often an offline user is checked for going live, seconds. */
  livePollSeconds: { env: 'LIVE_POLL_INTERVAL', flag: '--live-poll-interval', schema: Type.Number({ minimum: 0.05, maximum: 86_400 }), default: 30 },
  /** Failed connection attempts in a row before a followed user is given up; 0 = never. */
  reconnectMaxAttempts: { env: 'RECONNECT_MAX_ATTEMPTS', flag: undefined, schema: Type.Integer({ minimum: 0, maximum: 1_000_000 }), default: 0 },
  demoRate: { env: 'DEMO_RATE', flag: '--demo-rate', schema: Type.Number({ exclusiveMinimum: 0, maximum: 1000 }), default: 4 },
  demoSeed: { env: 'DEMO_SEED', flag: '--demo-seed', schema: Type.Integer({ minimum: 0, maximum: 4294967295 }), default: undefined },
  /** Keep stacks in ERROR events and logs (never in production). */
  debug: { env: 'TTLP_DEBUG', flag: '--debug', schema: Type.Boolean(), default: false },
  /** Embedded storage (PGlite) and other local state live here. */
  dataDir: { env: 'DATA_DIR', flag: '--data-dir', schema: Type.String({ minLength: 1 }), default: './data' },
  /** PostgreSQL instead of the embedded PGlite. */
  databaseUrl: { env: 'DATABASE_URL', flag: undefined, schema: Type.String({ pattern: '^postgres(ql)?://' }), default: undefined },
  /** Redis Streams instead of the in-process bus. */
  redisUrl: { env: 'REDIS_URL', flag: undefined, schema: Type.String({ pattern: '^rediss?://' }), default: undefined },
  redisPrefix: { env: 'REDIS_PREFIX', flag: undefined, schema: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }), default: 'ttlp:' },
  /** Approximate length bound of every bus stream. */
  busMaxLen: { env: 'BUS_MAXLEN', flag: undefined, schema: PositiveInt(100_000_000), default: 1_000_000 },
  /** Approximate length bound of the overlay stream (its messages are live; widgets catch up from state). */
  busOverlayMaxLen: { env: 'BUS_OVERLAY_MAXLEN', flag: undefined, schema: PositiveInt(100_000_000), default: 10_000 },
  /** Deliveries before an entry goes to the dead-letter stream. */
  busMaxDeliveries: { env: 'BUS_MAX_DELIVERIES', flag: undefined, schema: PositiveInt(100), default: 5 },
  /** Pending entries idle this long are claimed by another consumer. */
  busClaimIdleMs: { env: 'BUS_CLAIM_IDLE_MS', flag: undefined, schema: PositiveInt(3_600_000), default: 30_000 },
  /** Events per storage batch (one round trip each). */
  storeBatchSize: { env: 'STORE_BATCH_SIZE', flag: undefined, schema: PositiveInt(10_000), default: 500 },
  /** Port of the HTTP API, the settings page and the overlays; 0 picks a free one. */
  port: { env: 'PORT', flag: '--port', schema: Type.Integer({ minimum: 0, maximum: 65535 }), default: 8787 },
  /** Address the HTTP server listens on; 0.0.0.0 to reach it from other machines (OBS on another PC). */
  host: { env: 'HOST', flag: '--host', schema: Type.String({ minLength: 1, maxLength: 255 }), default: '127.0.0.1' },
  /**
   * Key of the pseudonyms of erased and retired users (D-011), at least 32 bytes. Required with
   * DATABASE_URL; in embedded mode generated once into the data folder when not set.
   */
  pseudonymizationSecret: { env: 'PSEUDONYMIZATION_SECRET', flag: undefined, schema: Type.String({ minLength: 1 }), default: undefined },
  /** Events older than this (days) are archived, and deleted ARCHIVE_RETENTION_DAYS later. */
  eventRetentionDays: { env: 'EVENT_RETENTION_DAYS', flag: undefined, schema: Type.Integer({ minimum: 1, maximum: 36_500 }), default: 90 },
  archiveRetentionDays: { env: 'ARCHIVE_RETENTION_DAYS', flag: undefined, schema: Type.Integer({ minimum: 0, maximum: 36_500 }), default: 30 },
  /** The plugins' actions log is kept this many days. */
  actionsLogRetentionDays: { env: 'ACTIONS_LOG_RETENTION_DAYS', flag: undefined, schema: Type.Integer({ minimum: 1, maximum: 36_500 }), default: 30 },
  /** Users not seen for this many days are pseudonymized. */
  userRetentionDays: { env: 'USER_RETENTION_DAYS', flag: undefined, schema: Type.Integer({ minimum: 1, maximum: 36_500 }), default: 365 },
  /** Installed plugins besides the first-party ones in the repository's plugins/. */
  pluginsDir: { env: 'PLUGINS_DIR', flag: '--plugins-dir', schema: Type.String({ minLength: 1 }), default: './data/plugins' },
  /** Heap of each plugin's isolate, MB. */
  pluginHeapMb: { env: 'PLUGIN_HEAP_MB', flag: undefined, schema: Type.Integer({ minimum: 8, maximum: 4096 }), default: 64 },
  /** CPU a plugin may use for one event (or timer), ms. */
  pluginCpuMs: { env: 'PLUGIN_CPU_MS', flag: undefined, schema: PositiveInt(10_000), default: 50 },
  /** Time a plugin's async work for one event may take, ms. */
  pluginWallMs: { env: 'PLUGIN_WALL_MS', flag: undefined, schema: PositiveInt(600_000), default: 10_000 },
  pluginOverlayMaxBytes: { env: 'PLUGIN_OVERLAY_MAX_BYTES', flag: undefined, schema: PositiveInt(16 * 1024 * 1024), default: 64 * 1024 },
  /** Events a plugin may fall behind the stream before it skips ahead to the newest (the gap is its fault). */
  pluginMaxLagEvents: { env: 'PLUGIN_MAX_LAG_EVENTS', flag: undefined, schema: PositiveInt(10_000_000), default: 5_000 },
  /** Log lines per second a plugin may write on average (bursts of 5× that). */
  pluginLogPerSecond: { env: 'PLUGIN_LOG_PER_SECOND', flag: undefined, schema: PositiveInt(100_000), default: 20 },
} as const satisfies Record<string, { env: string; flag: string | undefined; schema: TSchema; default: unknown }>;

type SettingKey = keyof typeof SETTINGS;

export const HostConfigSchema = Type.Object(
  {
    logLevel: SETTINGS.logLevel.schema,
    logFormat: SETTINGS.logFormat.schema,
    tiktokUsers: SETTINGS.tiktokUsers.schema,
    provider: SETTINGS.provider.schema,
    tiktokUrl: Type.Optional(SETTINGS.tiktokUrl.schema),
    signApiUrl: Type.Optional(SETTINGS.signApiUrl.schema),
    eulerApiKey: Type.Optional(SETTINGS.eulerApiKey.schema),
    eulerWsUrl: SETTINGS.eulerWsUrl.schema,
    tiktokSessionId: Type.Optional(SETTINGS.tiktokSessionId.schema),
    tiktokTargetIdc: Type.Optional(SETTINGS.tiktokTargetIdc.schema),
    proxy: Type.Optional(SETTINGS.proxy.schema),
    livePollSeconds: SETTINGS.livePollSeconds.schema,
    reconnectMaxAttempts: SETTINGS.reconnectMaxAttempts.schema,
    demoRate: SETTINGS.demoRate.schema,
    demoSeed: Type.Optional(SETTINGS.demoSeed.schema),
    debug: SETTINGS.debug.schema,
    dataDir: SETTINGS.dataDir.schema,
    databaseUrl: Type.Optional(SETTINGS.databaseUrl.schema),
    redisUrl: Type.Optional(SETTINGS.redisUrl.schema),
    redisPrefix: SETTINGS.redisPrefix.schema,
    busMaxLen: SETTINGS.busMaxLen.schema,
    busOverlayMaxLen: SETTINGS.busOverlayMaxLen.schema,
    busMaxDeliveries: SETTINGS.busMaxDeliveries.schema,
    busClaimIdleMs: SETTINGS.busClaimIdleMs.schema,
    storeBatchSize: SETTINGS.storeBatchSize.schema,
    pseudonymizationSecret: Type.Optional(SETTINGS.pseudonymizationSecret.schema),
    eventRetentionDays: SETTINGS.eventRetentionDays.schema,
    archiveRetentionDays: SETTINGS.archiveRetentionDays.schema,
    actionsLogRetentionDays: SETTINGS.actionsLogRetentionDays.schema,
    userRetentionDays: SETTINGS.userRetentionDays.schema,
    port: SETTINGS.port.schema,
    host: SETTINGS.host.schema,
    pluginsDir: SETTINGS.pluginsDir.schema,
    pluginHeapMb: SETTINGS.pluginHeapMb.schema,
    pluginCpuMs: SETTINGS.pluginCpuMs.schema,
    pluginWallMs: SETTINGS.pluginWallMs.schema,
    pluginOverlayMaxBytes: SETTINGS.pluginOverlayMaxBytes.schema,
    pluginLogPerSecond: SETTINGS.pluginLogPerSecond.schema,
    pluginMaxLagEvents: SETTINGS.pluginMaxLagEvents.schema,
  },
  { additionalProperties: false },
);

export type HostConfig = Static<typeof HostConfigSchema>;

/** The environment variables the host reads, for documentation and deployment checks. */
export const CONFIG_ENV_VARIABLES: readonly string[] = Object.values(SETTINGS).map((setting) => setting.env);

/** Command-line flags that override environment variables (strings as commander gives them). */
export interface ConfigFlags {
  user?: string[];
  provider?: string;
  tiktokUrl?: string;
  proxy?: string;
  livePollInterval?: string;
  logLevel?: string;
  logFormat?: string;
  demoRate?: string;
  demoSeed?: string;
  debug?: boolean;
  dataDir?: string;
  pluginsDir?: string;
  port?: string;
  host?: string;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ allErrors: true, coerceTypes: true, strict: true, allowUnionTypes: true });
const check = ajv.compile<HostConfig>(HostConfigSchema);

const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value.trim());
const stripAt = (user: string) => user.trim().replace(/^@/, '');
const truthy = (value: string) => ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());

function origin(key: SettingKey): string {
  const { env, flag } = SETTINGS[key];
  return flag ? `${env} / ${flag}` : env;
}

export function loadConfig(env: NodeJS.ProcessEnv, flags: ConfigFlags = {}): HostConfig {
  const fromFlags: Partial<Record<SettingKey, unknown>> = {
    logLevel: flags.logLevel,
    logFormat: flags.logFormat,
    tiktokUsers: flags.user?.length ? flags.user : undefined,
    provider: flags.provider,
    tiktokUrl: flags.tiktokUrl,
    proxy: flags.proxy,
    livePollSeconds: flags.livePollInterval,
    demoRate: flags.demoRate,
    demoSeed: flags.demoSeed,
    debug: flags.debug,
    dataDir: flags.dataDir,
    pluginsDir: flags.pluginsDir,
    port: flags.port,
    host: flags.host,
  };
  const candidate: Record<string, unknown> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const setting = SETTINGS[key];
    const fromEnv = nonEmpty(env[setting.env]);
    let value = fromFlags[key] ?? fromEnv ?? setting.default;
    if (key === 'tiktokUsers' && typeof value === 'string') value = value.split(',');
    if (key === 'tiktokUsers') value = (value as string[]).map(stripAt).filter((user) => user !== '');
    if (key === 'debug' && typeof value === 'string') value = truthy(value);
    if (value !== undefined) candidate[key] = value;
  }
  if (check(candidate)) {
    const problems = crossChecks(candidate);
    if (problems.length > 0) throw new ConfigError(problems);
    return candidate;
  }
  const problems = (check.errors ?? []).map((error) => {
    const key = error.instancePath.split('/')[1] as SettingKey | undefined;
    const allowed = error.keyword === 'enum' ? ` (${(error.params.allowedValues as string[]).join(', ')})` : '';
    return `${key ? origin(key) : 'configuration'}: ${error.message ?? error.keyword}${allowed}`;
  });
  throw new ConfigError([...new Set(problems)]);
}

/** Settings that are valid alone but not together. */
function crossChecks(config: HostConfig): string[] {
  const problems: string[] = [];
  if ((config.tiktokSessionId === undefined) !== (config.tiktokTargetIdc === undefined))
    problems.push(`${origin('tiktokSessionId')} and ${origin('tiktokTargetIdc')}: give both or neither`);
  if (config.provider === 'euler' && config.tiktokUsers.length > 0 && config.eulerApiKey === undefined)
    problems.push(`${origin('eulerApiKey')}: the euler provider needs an Euler Stream API key`);
  if (config.provider === 'euler' && config.tiktokUrl !== undefined)
    problems.push(`${origin('tiktokUrl')}: applies to the direct provider; the euler provider connects to ${origin('eulerWsUrl')}`);
  return problems;
}

/** The retention policy from the configuration. */
export function retentionPolicy(config: HostConfig) {
  return {
    eventRetentionDays: config.eventRetentionDays,
    archiveRetentionDays: config.archiveRetentionDays,
    actionsLogRetentionDays: config.actionsLogRetentionDays,
    userRetentionDays: config.userRetentionDays,
  };
}

/** Sandbox limits from the configuration. */
export function pluginLimits(config: HostConfig) {
  return {
    heapMb: config.pluginHeapMb,
    cpuMsPerRun: config.pluginCpuMs,
    wallMsPerRun: config.pluginWallMs,
    overlayMaxBytes: config.pluginOverlayMaxBytes,
    logPerSecond: config.pluginLogPerSecond,
    logBurst: config.pluginLogPerSecond * 5,
  };
}
