/**
 * Leaderboard: the session's top gifters (by coins, each gift streak counted once) and top likers,
 * as the state of the `leaderboard` overlay channel. Kept in memory: a new session starts an empty
 * board.
 */
import { definePlugin, type UnifiedEvent } from '@ttlp/sdk';
import { Leaderboard } from './board.ts';

type Config = { size: number; streakTimeoutMs: number; publishIntervalMs: number };

const CHANNEL = 'leaderboard';

export default definePlugin<Config>({
  setup(ctx) {
    let sessionId: string | undefined;
    let board = new Leaderboard(ctx.config.streakTimeoutMs);
    let timer: number | undefined;

    const publish = () => ctx.overlay.setState(CHANNEL, board.top(ctx.config.size));
    // Ranking every viewer again for each gift or like of a busy stream costs more than it shows:
    // the board is published at most every publishIntervalMs, with everything up to then.
    let publishDue = false;
    const publishSoon = (): void => {
      if (publishDue) return;
      publishDue = true;
      ctx.setTimeout(() => {
        publishDue = false;
        return publish();
      }, ctx.config.publishIntervalMs);
    };

    // One timer, for the earliest deadline of the open streaks, re-armed on every gift message
    // (which pushes its streak's deadline back): a plugin may hold only a few dozen timers, and a
    // busy stream can have more streaks open at once.
    function armStreakTimer(): void {
      if (timer !== undefined) ctx.clearTimeout(timer);
      const deadline = board.nextDeadline();
      timer = deadline === undefined ? undefined : ctx.setTimeout(closeStaleStreaks, Math.max(0, deadline - Date.now()));
    }

    // Closing changes no total (an open streak is already on the board with its coins), so there
    // is nothing to publish; a late message of the streak then adds only coins beyond them.
    function closeStaleStreaks(): void {
      timer = undefined;
      board.closeExpired(Date.now());
      armStreakTimer();
    }

    /** Starts an empty board when the event belongs to a new session; true if it did. */
    function enterSession(event: UnifiedEvent): boolean {
      if (event.sessionId === sessionId) return false;
      sessionId = event.sessionId;
      board = new Leaderboard(ctx.config.streakTimeoutMs);
      armStreakTimer();
      return true;
    }

    ctx.on('GIFT', (event) => {
      const reset = enterSession(event);
      const changed = board.addGift(event, Date.now());
      armStreakTimer();
      if (reset || changed) publishSoon();
    });
    ctx.on('LIKE', (event) => {
      const reset = enterSession(event);
      const changed = board.addLike(event);
      if (reset || changed) publishSoon();
    });

    // Widgets that connect before the first event get an empty board.
    return publish();
  },
});
