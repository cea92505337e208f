/**
 * Alerts: follow, share, subscribe and gift alerts on the `alerts` overlay channel. A gift streak
 * is one alert whose count goes up; message shapes are in alert-message.ts and README.md.
 */
import { definePlugin, RecentKeys, type UnifiedEvent } from '@ttlp/sdk';
import { alertUser, userValues, type AlertMessage } from './alert-message.ts';
import { GiftAlerts, type GiftAlertStep } from './gift-alerts.ts';
import { renderTemplate, type TemplateValues } from './template.ts';

export interface AlertSettings {
  enabled: boolean;
  template: string;
  durationMs: number;
}

/** Follows, shares and subscriptions: several waiting at once may show as one alert. */
export interface GroupedAlertSettings extends AlertSettings {
  groupTemplate: string;
}

export interface AlertsConfig {
  follow: GroupedAlertSettings;
  share: GroupedAlertSettings;
  subscribe: GroupedAlertSettings;
  gift: AlertSettings & { minCoins: number; streakTimeoutMs: number };
}

export const ALERTS_CHANNEL = 'alerts';

/** Event ids remembered to drop re-delivered events (TikTok and the bus may deliver one twice). */
const SEEN_EVENTS_KEPT = 2000;

export default definePlugin<AlertsConfig>({
  setup(ctx) {
    const { follow, share, subscribe, gift } = ctx.config;
    const seen = new RecentKeys(SEEN_EVENTS_KEPT);
    // Handlers are synchronous (a refused send is recorded by the host as a fault), so the host
    // can hand this plugin many events in one entry.
    const firstDelivery =
      <E extends UnifiedEvent>(handler: (event: E) => void) =>
      (event: E): void => {
        if (seen.add(event.eventId)) handler(event);
      };
    const send = (message: AlertMessage): void => void ctx.overlay.send(ALERTS_CHANNEL, message);

    /** The fields of an alert that is complete in one message, of a type whose alerts may be grouped. */
    const singleAlert = (type: string, settings: GroupedAlertSettings, event: UnifiedEvent, values: TemplateValues = {}) => {
      const user = alertUser(event.user);
      const text = renderTemplate(settings.template, { ...userValues(user), ...values });
      const group = { key: type, template: settings.groupTemplate };
      return { alertId: event.eventId, update: false, final: true, text, durationMs: settings.durationMs, user, value: 0, group };
    };

    if (follow.enabled) ctx.on('FOLLOW', firstDelivery((event) => send({ type: 'follow', ...singleAlert('follow', follow, event) })));
    if (share.enabled) ctx.on('SHARE', firstDelivery((event) => send({ type: 'share', ...singleAlert('share', share, event) })));
    if (subscribe.enabled)
      ctx.on(
        'SUBSCRIBE',
        firstDelivery((event) => {
          const subMonth = event.payload.subMonth ?? null;
          return send({ type: 'subscribe', subMonth, ...singleAlert('subscribe', subscribe, event, { subMonth: subMonth ?? '' }) });
        }),
      );
    if (!gift.enabled) return;

    const gifts = new GiftAlerts(gift.minCoins, gift.streakTimeoutMs);
    const giftMessage = (step: GiftAlertStep): AlertMessage => {
      const user = alertUser(step.user);
      const values = { ...userValues(user), giftName: step.gift.giftName, count: step.count, coins: step.coins };
      return {
        type: 'gift',
        alertId: step.alertId,
        update: step.update,
        final: step.final,
        text: renderTemplate(gift.template, values),
        durationMs: gift.durationMs,
        user,
        giftName: step.gift.giftName,
        giftImageUrl: step.gift.giftImageUrl ?? null,
        count: step.count,
        coins: step.coins,
        value: step.coins,
        group: null,
      };
    };

    // One timer for all open streaks, armed only while one is open, so idle streaks get closed
    // without a timer per streak (the isolate's timers are limited).
    let sweepTimer: number | undefined;
    const scheduleSweep = () => {
      const next = gifts.nextExpiry();
      if (next !== undefined && sweepTimer === undefined) sweepTimer = ctx.setTimeout(sweep, next - Date.now());
    };
    const sweep = () => {
      sweepTimer = undefined;
      const steps = gifts.expire(Date.now());
      scheduleSweep();
      for (const step of steps) send(giftMessage(step));
    };

    ctx.on(
      'GIFT',
      firstDelivery((event) => {
        const steps = gifts.receive(event, Date.now());
        scheduleSweep();
        for (const step of steps) send(giftMessage(step));
      }),
    );
  },
});
