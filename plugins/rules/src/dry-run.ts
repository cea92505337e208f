/**
 * What rules would do with an event, without doing it. Pure: the plugin plans every event with
 * `dryRun` and then carries the plan out, and tests or a settings page get the same plan with the
 * reasons behind it.
 */
import type { Json, UnifiedEvent } from '@ttlp/sdk';
import { explainCondition, renderTemplate, templateTokens, valueAtPath } from '@ttlp/sdk/logic';
import { DEFAULT_CHANNEL, ruleProblems, type Audience, type BodyTemplate, type LogLevel, type Rule, type RuleAction } from './rule.ts';

/** What an overlay action sends (see README.md). */
export type OverlayMessage = { ruleId: string; text: string; eventId: string };

/** An action with its templates filled in; `missing` lists the tokens that had no value. */
export type PlannedAction =
  | { type: 'overlay'; channel: string; message: OverlayMessage; missing: string[] }
  | { type: 'webhook'; url: string; headers: { 'content-type': string }; body: string; missing: string[] }
  | { type: 'log'; level: LogLevel; text: string; missing: string[] };

export type RulePlan = {
  ruleId: string;
  matched: boolean;
  /** Why the rule matched or not: the deciding sub-conditions with their values, or why it was not checked. */
  reasons: string[];
  /** What it would do: empty unless it matched. */
  actions: PlannedAction[];
};

/** Each rule's plan for `event`, in the order of `rules`. */
export function dryRun(rules: readonly Rule[], event: UnifiedEvent): RulePlan[] {
  return rules.map((rule) => planRule(rule, event));
}

function planRule(rule: Rule, event: UnifiedEvent): RulePlan {
  const notRun = (reasons: string[]): RulePlan => ({ ruleId: rule.id, matched: false, reasons, actions: [] });
  const problems = ruleProblems(rule);
  if (problems.length > 0) return notRun(problems.map((problem) => `invalid rule: ${problem}`));
  if (!rule.enabled) return notRun(['the rule is disabled']);
  if (rule.events.length > 0 && !rule.events.includes(event.eventType))
    return notRun([`the rule applies to ${rule.events.join(', ')}, not ${event.eventType}`]);
  const refused = triggerRefusal(rule, event) ?? audienceRefusal(rule, event);
  if (refused) return notRun([refused]);
  let explanation: { matched: boolean; reasons: string[] };
  try {
    explanation = explainCondition(rule.condition, event);
  } catch (error) {
    // JSON Logic can still throw on odd data (`in` over an object with an own `indexOf` field):
    // that rule does not match, and the other rules still run.
    return notRun([`the condition failed on this event: ${(error as Error).message}`]);
  }
  const { matched, reasons } = explanation;
  return { ruleId: rule.id, matched, reasons, actions: matched ? rule.actions.map((action) => planAction(rule.id, action, event)) : [] };
}

/** Why the event is not the rule's gift or command; undefined when it is (or the rule fires on any event). */
function triggerRefusal(rule: Rule, event: UnifiedEvent): string | undefined {
  if (rule.trigger === 'gift') {
    if (event.eventType !== 'GIFT') return `the rule fires on gifts, not ${event.eventType}`;
    const { giftName, coins } = event.payload;
    const wanted = rule.giftName?.trim();
    if (wanted && giftName.toLowerCase() !== wanted.toLowerCase()) return `the gift is ${giftName}, not ${wanted}`;
    if (coins < (rule.minCoins ?? 0)) return `the gift is worth ${coins} coins so far, less than ${rule.minCoins}`;
  }
  if (rule.trigger === 'command') {
    const command = rule.command?.trim() ?? '';
    if (event.eventType !== 'CHAT') return `the rule fires on the chat command ${command}, not on ${event.eventType}`;
    const word = event.payload.message.trim().split(/\s+/)[0] ?? '';
    if (word.toLowerCase() !== command.toLowerCase()) return `the message does not start with ${command}`;
  }
  return undefined;
}

/** Why the viewer may not set the rule off; undefined when they may. */
function audienceRefusal(rule: Rule, event: UnifiedEvent): string | undefined {
  const { user } = event;
  const users = (rule.users ?? []).map((handle) => handle.trim().replace(/^@/, '').toLowerCase()).filter((handle) => handle !== '');
  if (users.length > 0 && !users.includes(user.uniqueId.toLowerCase())) return `@${user.uniqueId} is not one of the rule's viewers`;
  const allowed: Record<Audience, boolean> = {
    everyone: true,
    followers: (user.followRole ?? 0) >= 1,
    friends: user.followRole === 2,
    subscribers: user.isSubscriber === true,
    moderators: user.isModerator === true,
  };
  const audience = rule.audience ?? 'everyone';
  return allowed[audience] ? undefined : `@${user.uniqueId} is not one of the ${audience}`;
}

function planAction(ruleId: string, action: RuleAction, event: UnifiedEvent): PlannedAction {
  switch (action.type) {
    case 'overlay': {
      const { text, missing } = renderTemplate(action.template, event);
      return { type: 'overlay', channel: action.channel ?? DEFAULT_CHANNEL, message: { ruleId, text, eventId: event.eventId }, missing };
    }
    case 'webhook': {
      const { body, missing } = renderBody(action.template, event);
      const contentType = isJson(body) ? 'application/json' : 'text/plain; charset=utf-8';
      return { type: 'webhook', url: action.url, headers: { 'content-type': contentType }, body, missing };
    }
    case 'log': {
      const { text, missing } = renderTemplate(action.template, event);
      return { type: 'log', level: action.level, text, missing };
    }
  }
}

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/**
 * A webhook body: the event as JSON by default; a text template as rendered; a JSON template with
 * each string rendered, so values are escaped by JSON.stringify instead of breaking the document
 * (a display name with a quote in it).
 */
function renderBody(template: BodyTemplate | undefined, event: UnifiedEvent): { body: string; missing: string[] } {
  if (template === undefined) return { body: JSON.stringify(event), missing: [] };
  if (typeof template === 'string') {
    const { text, missing } = renderTemplate(template, event);
    return { body: text, missing };
  }
  const missing = new Set<string>();
  const body = JSON.stringify(renderJson(template, event, missing));
  return { body, missing: [...missing] };
}

/** A string that is just one token takes the value itself, so `"{payload.coins}"` stays a number. */
function renderJson(template: Json, event: UnifiedEvent, missing: Set<string>): Json {
  if (Array.isArray(template)) return template.map((item) => renderJson(item, event, missing));
  if (template !== null && typeof template === 'object')
    return Object.fromEntries(Object.entries(template).map(([key, value]) => [key, renderJson(value, event, missing)]));
  if (typeof template !== 'string') return template;
  const [onlyToken] = templateTokens(template);
  if (onlyToken !== undefined && template === `{${onlyToken}}`) {
    const value = valueAtPath(event, onlyToken) as Json | undefined;
    if (value === undefined || value === null) missing.add(onlyToken);
    return value ?? null;
  }
  const rendered = renderTemplate(template, event);
  for (const path of rendered.missing) missing.add(path);
  return rendered.text;
}
