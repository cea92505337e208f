/**
 * The data migration that renamed the five first-party widgets (drizzle/0003): overlay tokens
 * made before it open the widgets under their new names, so the URLs in streamers' OBS scenes
 * keep working; other tokens are left as they were.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { AccessTokens } from '../api/auth.ts';
import { MIGRATIONS_FOLDER } from './database.ts';
import { insertToken } from './tokens.ts';
import { STORE_DRIVERS, useTestStore } from '../../test/support/database.ts';

const MIGRATION = readFileSync(path.join(MIGRATIONS_FOLDER, '0003_overlay-widget-names.sql'), 'utf8');

for (const driver of STORE_DRIVERS) {
  describe(`the widget names migration on ${driver}`, () => {
    const test = useTestStore(driver);

    it('gives the overlay tokens of the old widget names the new ones, and leaves every other token alone', async () => {
      const { store } = test;
      const widgets = ['alerts', 'chat', 'goals', 'leaderboard', 'counters', 'shout/main', 'rules'];
      for (const widget of widgets) await insertToken(store, { name: `overlay ${widget}`, kind: 'overlay', token: `old-${widget}`, scope: { widget, token: `old-${widget}` } });
      await insertToken(store, { name: 'api', kind: 'api', token: 'old-api' });
      // As the migrator runs it: once, when the store opens after the upgrade.
      await store.db.execute(sql.raw(MIGRATION));
      const tokens = new AccessTokens(store);
      const widgetOf = async (token: string) => (await tokens.authenticate({ headers: {}, query: { token } } as never))?.widget;
      expect(await Promise.all(widgets.map((widget) => widgetOf(`old-${widget}`)))).toEqual([
        'alerts/alerts',
        'chat/chat',
        'goals/goals',
        'leaderboard/leaderboard',
        'host/counters',
        'shout/main',
        'rules',
      ]);
      expect(await tokens.overlayToken('alerts/alerts')).toEqual({ tokenId: expect.any(String), token: 'old-alerts' });
      expect((await tokens.authenticate({ headers: { authorization: 'Bearer old-api' }, query: {} } as never))?.kind).toBe('api');
    });
  });
}
