/** What a rule is (the `rules` setting, see package.json and README.md) and which rules can run. */
import type { EventType, Json } from '@ttlp/sdk';
import { checkCondition, templateTokens } from '@ttlp/sdk/logic';

/**
 * Where an overlay action that names no channel writes (the manifest declares `rules`, `rules-2` …
 * `rules-4`). Applied here: the config schema cannot fill in defaults inside its `oneOf` of actions.
 */
export const DEFAULT_CHANNEL = 'rules';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A webhook body: a text template, or JSON in which every string is a template. */
export type BodyTemplate = string | Json[] | { [key: string]: Json };

export type RuleAction =
  | { type: 'overlay'; channel?: string; template: string }
  | { type: 'webhook'; url: string; template?: BodyTemplate }
  | { type: 'log'; level: LogLevel; template: string };

/** Who may set a rule off: everyone, or viewers with that role. */
export const AUDIENCES = ['everyone', 'followers', 'friends', 'subscribers', 'moderators'] as const;
export type Audience = (typeof AUDIENCES)[number];

/** What sets a rule off: any event of its `events`, a gift, or a chat command. */
export const TRIGGERS = ['any', 'gift', 'command'] as const;
export type Trigger = (typeof TRIGGERS)[number];

export interface Rule {
  id: string;
  name: string;
  enabled: boolean;
  /** The event types the rule applies to; empty for all. */
  events: EventType[];
  /** Default `any`. */
  trigger?: Trigger;
  /** `gift`: only this gift (by name, any case); empty: any gift. */
  giftName?: string;
  /** `gift`: only once the gift (a combo: the combo so far) is worth this many coins. */
  minCoins?: number;
  /** `gift`: `once` per combo, at its first message worth `minCoins`; `each`: at every message that adds gifts. */
  combo?: 'once' | 'each';
  /** `command`: chat messages that start with this command (`!discord`, any case). */
  command?: string;
  /** Who may set the rule off (default everyone). */
  audience?: Audience;
  /** Only these viewers (@handles), when not empty. */
  users?: string[];
  /** After firing, the rule rests this long (ms, event time). */
  cooldownMs?: number;
  /** After firing for a viewer, the rule rests this long for that viewer (ms, event time). */
  viewerCooldownMs?: number;
  /** JSON Logic over the event; `{}` always matches. */
  condition: Json;
  actions: RuleAction[];
}

export interface RulesConfig {
  rules: Rule[];
  dryRun: boolean;
}

export interface InvalidRule {
  rule: Rule;
  problems: string[];
}

/** The templates of an action: one, or every string of a JSON body. */
function actionTemplates(action: RuleAction): string[] {
  const strings = (value: Json | undefined): string[] => {
    if (typeof value === 'string') return [value];
    if (Array.isArray(value)) return value.flatMap(strings);
    return value && typeof value === 'object' ? Object.values(value).flatMap(strings) : [];
  };
  return strings(action.template);
}

/** Why a rule cannot run: a condition `checkCondition` refuses, or a malformed template. */
export function ruleProblems(rule: Rule): string[] {
  const problems = checkCondition(rule.condition).map((problem) => `condition ${problem}`);
  if (rule.trigger === 'command' && !rule.command?.trim()) problems.push('the command trigger names no command');
  rule.actions.forEach((action, index) => {
    for (const template of actionTemplates(action)) {
      try {
        templateTokens(template);
      } catch (error) {
        problems.push(`actions/${index} ${(error as Error).message}`);
      }
    }
  });
  return problems;
}

/** The event types a rule can fire on; empty for all. */
export function ruleEventTypes(rule: Rule): EventType[] {
  const trigger: EventType[] = rule.trigger === 'gift' ? ['GIFT'] : rule.trigger === 'command' ? ['CHAT'] : [];
  if (trigger.length === 0) return rule.events;
  return rule.events.length === 0 ? trigger : trigger.filter((type) => rule.events.includes(type));
}

/** The rules that can run, and the others with their problems (a repeated id is one). */
export function partitionRules(rules: readonly Rule[]): { runnable: Rule[]; invalid: InvalidRule[] } {
  const runnable: Rule[] = [];
  const invalid: InvalidRule[] = [];
  const ids = new Set<string>();
  for (const rule of rules) {
    const problems = ruleProblems(rule);
    if (ids.has(rule.id)) problems.push(`the id "${rule.id}" is used by an earlier rule`);
    ids.add(rule.id);
    if (problems.length > 0) invalid.push({ rule, problems });
    else runnable.push(rule);
  }
  return { runnable, invalid };
}
