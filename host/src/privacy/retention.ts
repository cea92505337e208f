/**
 * Retention (PRODUCT.md "Storage", D-007, D-011): events are archived after `eventRetentionDays`
 * and deleted `archiveRetentionDays` later, the actions log is trimmed, sessions and streams left
 * empty are removed, and users inactive for `userRetentionDays` are pseudonymized the way erasure
 * does it. `ttlp prune` runs it once; `RetentionSchedule` runs it daily inside the host.
 */
import { TransactionRollbackError, and, asc, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { errorSummary } from '../error-summary.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/database.ts';
import { users } from '../store/schema.ts';
import type { StoreTransaction } from './pseudonymize.ts';

export interface RetentionPolicy {
  /** Events older than this (by their `timestamp`) are archived. */
  eventRetentionDays: number;
  /** Archived events are deleted this long after they were archived. */
  archiveRetentionDays: number;
  /** Actions log rows older than this (by `created_at`) are deleted. */
  actionsLogRetentionDays: number;
  /** Users not seen for this long are pseudonymized. */
  userRetentionDays: number;
}

/** The actions log is an operational record (one row per plugin side effect): a month covers troubleshooting. */
export const DEFAULT_RETENTION: Readonly<RetentionPolicy> = Object.freeze({
  eventRetentionDays: 90,
  archiveRetentionDays: 30,
  actionsLogRetentionDays: 30,
  userRetentionDays: 365,
});

/**
 * Pseudonymizes `users` and everything naming them inside `tx` (the run's transaction: on PGlite
 * any other statement would wait for it), as erasure does (D-011): `pseudonymizerFor(secret)`.
 */
export type PseudonymizeUsers = (
  tx: StoreTransaction,
  users: ReadonlyArray<{ tiktokUserId: string }>,
  options: { now: Date },
) => Promise<{ rowsAffected: number }>;

export interface PruneOptions {
  /** The run's clock: every cutoff is measured back from it, and archived rows are stamped with it. */
  now: Date;
  /** Count what a run would do, then roll it all back. */
  dryRun?: boolean;
  /** Without it, users due for pseudonymization are only counted (`usersDue`). */
  pseudonymize?: PseudonymizeUsers;
}

export interface PruneSummary {
  dryRun: boolean;
  /** The run's `now`, ISO 8601. */
  timestamp: string;
  cutoffs: {
    /** Events with an earlier timestamp are archived. */
    archiveEventsBefore: string;
    /** Events archived earlier are deleted. */
    deleteArchivedBefore: string;
    /** Actions log rows created earlier are deleted. */
    deleteActionsBefore: string;
    /** Users last seen earlier are pseudonymized. */
    pseudonymizeUsersSeenBefore: string;
  };
  eventsArchived: number;
  eventsDeleted: number;
  actionsDeleted: number;
  sessionsDeleted: number;
  streamsDeleted: number;
  /** Users past their retention and not yet pseudonymized. */
  usersDue: number;
  /** Users handed to `pseudonymize`: `usersDue`, or 0 when no pseudonymize function was given. */
  usersPseudonymized: number;
  /** Rows the pseudonymization changed (users and events), as it reported them. */
  pseudonymizedRows: number;
}

const DAY_MS = 86_400_000;

/** Serializes runs across hosts sharing one PostgreSQL; this is "prun" in ASCII. */
const RETENTION_LOCK_KEY = '1886549358';

/** Bounds one pseudonymize call (its statements' parameters) however many users fall due at once. */
export const PSEUDONYMIZE_BATCH_SIZE = 500;

/**
 * One run of the retention policy at `options.now`.
 *
 * All steps share one transaction: a run is applied whole or not at all (a failed run is simply
 * repeated next time), the later steps see what the earlier ones removed (sessions emptied by the
 * event deletion go in the same run), and a dry run executes the very same statements and rolls
 * them back, so its counts are exactly those of a real run.
 */
export async function prune(store: Store, policy: RetentionPolicy, options: PruneOptions): Promise<PruneSummary> {
  assertPolicy(policy);
  let summary: PruneSummary | undefined;
  try {
    await store.db.transaction(async (tx) => {
      summary = await pruneIn(tx, policy, options);
      if (options.dryRun) tx.rollback();
    });
  } catch (error) {
    if (!(options.dryRun && error instanceof TransactionRollbackError)) throw error;
  }
  if (!summary) throw new Error('retention run ended without a summary');
  return summary;
}

async function pruneIn(tx: StoreTransaction, policy: RetentionPolicy, options: PruneOptions): Promise<PruneSummary> {
  const { now } = options;
  const archiveEventsBefore = daysBefore(now, policy.eventRetentionDays);
  const deleteArchivedBefore = daysBefore(now, policy.archiveRetentionDays);
  const deleteActionsBefore = daysBefore(now, policy.actionsLogRetentionDays);
  const pseudonymizeUsersSeenBefore = daysBefore(now, policy.userRetentionDays);

  await tx.execute(sql`SELECT pg_advisory_xact_lock(${RETENTION_LOCK_KEY}::bigint)`);

  const eventsArchived = await countOf(
    tx,
    sql`UPDATE events SET archived_at = ${at(now)}
        WHERE archived_at IS NULL AND "timestamp" < ${at(archiveEventsBefore)}
        RETURNING 1`,
  );
  const eventsDeleted = await countOf(tx, sql`DELETE FROM events WHERE archived_at < ${at(deleteArchivedBefore)} RETURNING 1`);
  const actionsDeleted = await countOf(tx, sql`DELETE FROM actions_log WHERE created_at < ${at(deleteActionsBefore)} RETURNING 1`);
  // Only sessions and streams older than the event retention: a younger one may be live and still awaiting its events.
  const sessionsDeleted = await countOf(
    tx,
    sql`DELETE FROM sessions AS s
        WHERE s.started_at < ${at(archiveEventsBefore)}
          AND NOT EXISTS (SELECT 1 FROM events AS e WHERE e.session_id = s.session_id)
          AND NOT ${namedInPluginConfig(sql`s.session_id::text`)}
        RETURNING 1`,
  );
  const streamsDeleted = await countOf(
    tx,
    sql`DELETE FROM streams AS st
        WHERE st.last_seen_at < ${at(archiveEventsBefore)}
          AND NOT EXISTS (SELECT 1 FROM sessions AS s WHERE s.stream_id = st.stream_id)
          AND NOT EXISTS (SELECT 1 FROM events AS e WHERE e.stream_id = st.stream_id)
          AND NOT ${namedInPluginConfig(sql`st.stream_id`)}
        RETURNING 1`,
  );

  const due = await tx
    .select({ tiktokUserId: users.tiktokUserId })
    .from(users)
    .where(and(isNull(users.pseudonymizedAt), lt(users.lastSeenAt, pseudonymizeUsersSeenBefore)))
    .orderBy(asc(users.tiktokUserId));
  let pseudonymizedRows = 0;
  if (options.pseudonymize) {
    for (let start = 0; start < due.length; start += PSEUDONYMIZE_BATCH_SIZE) {
      const result = await options.pseudonymize(tx, due.slice(start, start + PSEUDONYMIZE_BATCH_SIZE), { now });
      pseudonymizedRows += result.rowsAffected;
    }
  }

  return {
    dryRun: options.dryRun === true,
    timestamp: now.toISOString(),
    cutoffs: {
      archiveEventsBefore: archiveEventsBefore.toISOString(),
      deleteArchivedBefore: deleteArchivedBefore.toISOString(),
      deleteActionsBefore: deleteActionsBefore.toISOString(),
      pseudonymizeUsersSeenBefore: pseudonymizeUsersSeenBefore.toISOString(),
    },
    eventsArchived,
    eventsDeleted,
    actionsDeleted,
    sessionsDeleted,
    streamsDeleted,
    usersDue: due.length,
    usersPseudonymized: options.pseudonymize ? due.length : 0,
    pseudonymizedRows,
  };
}

/**
 * The rule that keeps a session or stream a plugin still relies on (a rule, goal or filter naming
 * it): some plugin's config, enabled or not, contains the id anywhere in its JSON text — as a
 * value, a key or part of a longer string — compared case-insensitively and JSON-escaped the way
 * jsonb prints it. Over-matching only keeps an empty row; under-matching would break a plugin.
 */
function namedInPluginConfig(id: SQL): SQL {
  const asJsonText = sql`substr(to_jsonb(${id})::text, 2, length(to_jsonb(${id})::text) - 2)`;
  return sql`EXISTS (SELECT 1 FROM plugins AS p WHERE strpos(lower(p.config::text), lower(${asJsonText})) > 0)`;
}

async function countOf(tx: StoreTransaction, statement: SQL): Promise<number> {
  const result = (await tx.execute(sql`WITH affected AS (${statement}) SELECT count(*)::int AS count FROM affected`)) as {
    rows?: Array<{ count: number }>;
  };
  return Number(result.rows?.[0]?.count ?? 0);
}

const at = (date: Date) => sql`${date.toISOString()}::timestamptz`;

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);

function assertPolicy(policy: RetentionPolicy): void {
  for (const [name, days] of Object.entries(policy))
    if (typeof days !== 'number' || !Number.isFinite(days) || days < 0)
      throw new RangeError(`retention policy: ${name} must be a number of days, 0 or more (got ${String(days)})`);
}

/** One line for the log: what the run did, or would do. */
export function describePrune(summary: PruneSummary): string {
  const unpseudonymized = summary.usersDue - summary.usersPseudonymized;
  return [
    `retention ${summary.dryRun ? 'dry run (nothing changed)' : 'run'} at ${summary.timestamp}:`,
    `${summary.eventsArchived} events archived, ${summary.eventsDeleted} deleted;`,
    `${summary.actionsDeleted} actions log rows, ${summary.sessionsDeleted} sessions and ${summary.streamsDeleted} streams deleted;`,
    `${summary.usersPseudonymized} users pseudonymized${unpseudonymized > 0 ? `, ${unpseudonymized} due but left alone (no pseudonymization configured)` : ''}`,
  ].join(' ');
}

export interface RetentionScheduleOptions {
  store: Store;
  policy: RetentionPolicy;
  log: Logger;
  pseudonymize?: PseudonymizeUsers;
  /** Between the end of one run and the start of the next; default one day. */
  intervalMs?: number;
  /** From `start` to the first run, so it does not compete with the host starting up; default one minute. */
  firstRunDelayMs?: number;
  clock?: () => Date;
}

/** Node's timers hold at most this many milliseconds (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

type ScheduleSettings = RetentionScheduleOptions & Required<Pick<RetentionScheduleOptions, 'intervalMs' | 'firstRunDelayMs' | 'clock'>>;

/**
 * Runs `prune` inside the host: first shortly after `start`, then every `intervalMs` after the
 * previous run ended, so runs never overlap. A failed run is logged and retried at the next one;
 * the timers are unref'd, so they never keep the process alive.
 */
export class RetentionSchedule {
  private settings: ScheduleSettings | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  start(options: RetentionScheduleOptions): void {
    if (this.settings || this.stopped) throw new Error('a retention schedule starts once');
    const settings: ScheduleSettings = { intervalMs: DAY_MS, firstRunDelayMs: 60_000, clock: () => new Date(), ...options };
    for (const name of ['intervalMs', 'firstRunDelayMs'] as const)
      if (!Number.isInteger(settings[name]) || settings[name] < 0 || settings[name] > MAX_TIMER_MS)
        throw new RangeError(`retention schedule: ${name} must be a whole number of milliseconds from 0 to ${MAX_TIMER_MS}`);
    assertPolicy(settings.policy);
    this.settings = settings;
    this.schedule(settings, settings.firstRunDelayMs);
  }

  /** Cancels the next run and waits for a run in progress, so the store can be closed afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(settings: ScheduleSettings, delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = runLogged(settings).finally(() => {
        this.running = undefined;
        this.schedule(settings, settings.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }
}

/** Never rejects: the host keeps running whatever a run meets. */
async function runLogged(settings: ScheduleSettings): Promise<void> {
  try {
    const summary = await prune(settings.store, settings.policy, { now: settings.clock(), pseudonymize: settings.pseudonymize });
    settings.log.info({ retention: summary }, describePrune(summary));
  } catch (error) {
    settings.log.error({ err: errorSummary(error) }, `retention run failed and changed nothing; the next run is in ${formatDelay(settings.intervalMs)}`);
  }
}

function formatDelay(ms: number): string {
  if (ms >= 3_600_000) return `${Math.round(ms / 3_600_000)} h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}
