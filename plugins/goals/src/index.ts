/**
 * Goals: like, follow and coin goals with progress bars on the `goals` overlay channel. Progress
 * is stored in kv per session, so a restart of the plugin keeps it, and a new session starts from
 * zero. Every reached goal is announced once.
 */
import { definePlugin } from '@ttlp/sdk';
import { distinctGoals, goalViews, unannounced, type Goal, type GoalView } from './goals.ts';
import { countEvent, emptyProgress, storedProgress, tallyOf, type CountedEvent, type Progress, type Tally } from './progress.ts';

type Config = { goals: Goal[]; saveIntervalMs: number };

const CHANNEL = 'goals';
/** kv: the ids of the sessions with stored progress, newest first. */
const SESSIONS_KEY = 'sessions';
/** Sessions whose progress is kept; more than one because a replay can run next to the live session. */
const KEPT_SESSIONS = 3;
const progressKey = (sessionId: string) => `progress:${sessionId}`;

const reachedMessage = (goal: GoalView) => ({
  type: 'reached',
  goalId: goal.id,
  kind: goal.kind,
  title: goal.title,
  current: goal.current,
  target: goal.target,
});

export default definePlugin<Config>({
  setup(ctx) {
    const { goals, repeated } = distinctGoals(ctx.config.goals);
    if (repeated.length > 0) ctx.log.warn('goals with a repeated id are left out', { ids: repeated });

    let session: { id: string; tally: Tally } | undefined;

    // Each event reads and writes kv; running them one after the other keeps two from interleaving.
    let queue: Promise<void> = Promise.resolve();
    const serially = (work: () => Promise<void>): Promise<void> => {
      const run = queue.then(work);
      queue = run.catch(() => undefined);
      return run;
    };

    // Progress is saved at most every saveIntervalMs (it is several KB, and a busy stream changes
    // it many times a second), at once when a goal is reached or the session changes.
    let unsaved: { sessionId: string; tally: Tally } | undefined;
    let saveScheduled = false;
    async function save(): Promise<void> {
      const pending = unsaved;
      unsaved = undefined;
      if (pending) await ctx.kv.set(progressKey(pending.sessionId), storedProgress(pending.tally));
    }
    function saveSoon(sessionId: string, tally: Tally): void {
      unsaved = { sessionId, tally };
      if (saveScheduled) return;
      saveScheduled = true;
      ctx.setTimeout(() => {
        saveScheduled = false;
        return serially(save);
      }, ctx.config.saveIntervalMs);
    }

    /** The tally of `sessionId`: cached, else stored, else zero for a session not seen before. */
    async function openSession(sessionId: string): Promise<Tally> {
      if (session?.id === sessionId) return session.tally;
      await save();
      const known = (await ctx.kv.get<string[]>(SESSIONS_KEY)) ?? [];
      let stored: Progress | undefined;
      if (known.includes(sessionId)) {
        stored = await ctx.kv.get<Progress>(progressKey(sessionId));
      } else {
        await ctx.kv.set(SESSIONS_KEY, [sessionId, ...known].slice(0, KEPT_SESSIONS));
        for (const old of known.slice(KEPT_SESSIONS - 1)) await ctx.kv.delete(progressKey(old));
      }
      session = { id: sessionId, tally: tallyOf(stored ?? emptyProgress()) };
      return session.tally;
    }

    /** Stores the progress, updates the bars and announces the goals reached since the last time. */
    async function commit(sessionId: string, tally: Tally): Promise<void> {
      const { progress } = tally;
      const reached = unannounced(goals, progress);
      for (const goal of reached) progress.announced[goal.id] = goal.target;
      saveSoon(sessionId, tally);
      if (reached.length > 0) await save();
      await ctx.overlay.setState(CHANNEL, { goals: goalViews(goals, progress) });
      for (const goal of reached) await ctx.overlay.send(CHANNEL, reachedMessage(goal));
    }

    let pending = 0;
    const onEvent = (event: CountedEvent): Promise<void> | void => {
      // The common case — the session's progress is at hand, nothing queued, no goal reached — is
      // synchronous, so the host can hand this plugin many events in one entry.
      if (pending === 0 && session?.id === event.sessionId) {
        const tally = session.tally;
        if (!countEvent(tally, event)) return;
        if (unannounced(goals, tally.progress).length === 0) {
          saveSoon(event.sessionId, tally);
          void ctx.overlay.setState(CHANNEL, { goals: goalViews(goals, tally.progress) });
          return;
        }
        pending += 1;
        return serially(() => commit(event.sessionId, tally)).finally(() => (pending -= 1));
      }
      pending += 1;
      return serially(async () => {
        const tally = await openSession(event.sessionId);
        if (countEvent(tally, event)) await commit(event.sessionId, tally);
      }).finally(() => (pending -= 1));
    };
    ctx.on('LIKE', onEvent);
    ctx.on('FOLLOW', onEvent);
    ctx.on('GIFT', onEvent);

    // Widgets that connect before the next event see the latest session's bars (or empty ones).
    return serially(async () => {
      const latest = (await ctx.kv.get<string[]>(SESSIONS_KEY))?.[0];
      if (latest === undefined) await ctx.overlay.setState(CHANNEL, { goals: goalViews(goals, emptyProgress()) });
      else await commit(latest, await openSession(latest));
    });
  },
});
