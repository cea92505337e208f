/**
 * Rules: on each event, every enabled rule whose event types, gift or command, audience and JSON
 * Logic condition match runs its actions: an overlay message, a webhook, a log line — once per gift
 * combo or at each of its gifts, and not while it rests (flow.ts). `dryRun` (dry-run.ts) plans what
 * the rules do; this file carries the plan out, or with the `dryRun` setting only logs it.
 */
import { definePlugin, GiftStreaks, RecentKeys, type EventType, type Json, type UnifiedEvent } from '@ttlp/sdk';
import { dryRun, type PlannedAction } from './dry-run.ts';
import { eventTime, RuleGates } from './flow.ts';
import { LogBudget } from './log-budget.ts';
import { partitionRules, ruleEventTypes, type LogLevel, type RulesConfig } from './rule.ts';

/** Event ids remembered to drop re-delivered events (TikTok and the bus may deliver one twice; a webhook must not fire twice). */
const SEEN_EVENTS_KEPT = 2000;
/** The budget of the lines written per event: half the host's limit (see log-budget.ts). */
const LOG_LINES_PER_SECOND = 10;
const LOG_BURST = 50;

export default definePlugin<RulesConfig>({
  setup(ctx) {
    const { runnable, invalid } = partitionRules(ctx.config.rules);
    for (const { rule, problems } of invalid)
      ctx.log.error(`rule "${rule.id}" (${rule.name}) is skipped: ${problems.join('; ')}`, { ruleId: rule.id, problems });

    const budget = new LogBudget(LOG_LINES_PER_SECOND, LOG_BURST, Date.now());
    const log = (level: LogLevel, message: string, fields: Record<string, Json>) => {
      const spent = budget.take(Date.now());
      if (spent.allowed) ctx.log[level](message, spent.droppedBefore > 0 ? { ...fields, droppedBefore: spent.droppedBefore } : fields);
    };

    const perform = async (action: PlannedAction, fields: { ruleId: string; eventId: string }) => {
      if (action.type === 'overlay') return ctx.overlay.send(action.channel, action.message);
      if (action.type === 'log') return log(action.level, action.text, fields);
      const response = await ctx.http.fetch(action.url, { method: 'POST', headers: action.headers, body: action.body });
      if (!response.ok)
        log('warn', `rule "${fields.ruleId}": the webhook ${action.url} answered ${response.status}`, { ...fields, status: response.status });
    };

    const seen = new RecentKeys(SEEN_EVENTS_KEPT);
    const streaks = new GiftStreaks();
    const gates = new RuleGates();
    const rulesById = new Map(runnable.map((rule) => [rule.id, rule]));
    const handle = async (event: UnifiedEvent) => {
      if (!seen.add(event.eventId)) return;
      const credit = event.eventType === 'GIFT' ? streaks.add(event) : undefined;
      const at = eventTime(event);
      for (const plan of dryRun(runnable, event)) {
        const fields = { ruleId: plan.ruleId, eventId: event.eventId };
        const rule = rulesById.get(plan.ruleId)!;
        const held = plan.matched ? gates.refusal(rule, event, credit, at) : undefined;
        if (plan.matched && !held) gates.fired(rule, event, credit, at);
        if (ctx.config.dryRun) {
          const reasons = held ? [...plan.reasons, `held back: ${held}`] : plan.reasons;
          const verdict = !plan.matched ? 'did not match' : held ? 'matched but is held back for' : 'matched';
          log('info', `dry run: rule "${plan.ruleId}" ${verdict} a ${event.eventType} event`, { ...fields, matched: plan.matched && !held, reasons, actions: held ? [] : plan.actions });
          continue;
        }
        if (!plan.matched || held) continue;
        // One failed action (a webhook that is down or not granted) must not stop the others,
        // nor become a fault: enough faults disable the whole plugin.
        for (const action of plan.actions)
          await perform(action, fields).catch((error: unknown) => {
            const reason = error instanceof Error ? error.message : String(error);
            log('error', `rule "${plan.ruleId}": the ${action.type} action failed: ${reason}`, fields);
          });
      }
    };

    // Only the event types some rule needs enter the isolate: LIKE and JOIN are most of a stream.
    const enabled = runnable.filter((rule) => rule.enabled);
    if (enabled.some((rule) => ruleEventTypes(rule).length === 0)) ctx.on('*', handle);
    else for (const type of new Set<EventType>(enabled.flatMap(ruleEventTypes))) ctx.on(type, handle);
  },
});
