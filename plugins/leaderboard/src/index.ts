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

    /** Starts an empty board when the event belongs to a new session; true if it did. */
    function enterSession(event: UnifiedEvent): boolean {
      if (event.sessionId === sessionId) return false;
      sessionId = event.sessionId;
      board = new Leaderboard(ctx.config.streakTimeoutMs);
      return true;
    }

    ctx.on('GIFT', (event) => {
      const reset = enterSession(event);
      if (board.addGift(event) || reset) publishSoon();
    });
    ctx.on('LIKE', (event) => {
      const reset = enterSession(event);
      if (board.addLike(event) || reset) publishSoon();
    });

    // Widgets that connect before the first event get an empty board.
    return publish();
  },
});
