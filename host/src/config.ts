/**
 * Host configuration: environment variables and command-line flags, validated once at
 * start with every problem listed, typed afterwards. `.env.example` documents each one.
 */
import Type, { type Static } from 'typebox';
import { Ajv } from 'ajv';
import { LOG_FORMATS, LOG_LEVELS } from './log.ts';


export const HostConfigSchema = Type.Object(
  {
    logLevel: Type.Enum(LOG_LEVELS),
    logFormat: Type.Enum(LOG_FORMATS),
    /** TikTok users to follow (without @); empty = demo provider. */
    tiktokUsers: Type.Array(Type.String({ pattern: '^[A-Za-z0-9._]{1,64}$' }), { maxItems: 32 }),
    demoRate: Type.Number({ exclusiveMinimum: 0, maximum: 1000 }),
    demoSeed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    /** Keep stacks in ERROR events and logs (never in production). */
    debug: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type HostConfig = Static<typeof HostConfigSchema>;

/** The flags `ttlp start` accepts that override environment variables. */
export interface StartFlags {
  user?: string[];
  logLevel?: string;
  logFormat?: string;
  demoRate?: string;
  demoSeed?: string;
  debug?: boolean;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Where each config key comes from, for error messages people can act on. */
const ORIGIN: Record<keyof HostConfig, string> = {
  logLevel: 'LOG_LEVEL / --log-level',
  logFormat: 'LOG_FORMAT / --log-format',
  tiktokUsers: 'TIKTOK_USERNAME / --user',
  demoRate: 'DEMO_RATE / --demo-rate',
  demoSeed: 'DEMO_SEED / --demo-seed',
  debug: 'TTLP_DEBUG / --debug',
};

const ajv = new Ajv({ allErrors: true, coerceTypes: true, strict: true, allowUnionTypes: true });
const check = ajv.compile<HostConfig>(HostConfigSchema);

const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value.trim());
const stripAt = (user: string) => user.trim().replace(/^@/, '');

export function loadConfig(env: NodeJS.ProcessEnv, flags: StartFlags = {}): HostConfig {
  const users = flags.user?.length ? flags.user : (nonEmpty(env.TIKTOK_USERNAME)?.split(',') ?? []);
  const candidate: Record<string, unknown> = {
    logLevel: flags.logLevel ?? nonEmpty(env.LOG_LEVEL) ?? 'info',
    logFormat: flags.logFormat ?? nonEmpty(env.LOG_FORMAT) ?? 'auto',
    tiktokUsers: users.map(stripAt).filter((user) => user !== ''),
    demoRate: flags.demoRate ?? nonEmpty(env.DEMO_RATE) ?? 4,
    debug: flags.debug ?? ['1', 'true', 'yes'].includes((env.TTLP_DEBUG ?? '').toLowerCase()),
  };
  const seed = flags.demoSeed ?? nonEmpty(env.DEMO_SEED);
  if (seed !== undefined) candidate.demoSeed = seed;
  if (check(candidate)) return candidate;
  const problems = (check.errors ?? []).map((error) => {
    const key = error.instancePath.split('/')[1] as keyof HostConfig | undefined;
    const origin = key ? ORIGIN[key] : 'configuration';
    const allowed = error.keyword === 'enum' ? ` (${(error.params.allowedValues as string[]).join(', ')})` : '';
    return `${origin}: ${error.message ?? error.keyword}${allowed}`;
  });
  throw new ConfigError([...new Set(problems)]);
}
