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

export interface Rule {
  id: string;
  name: string;
  enabled: boolean;
  /** The event types the rule applies to; empty for all. */
  events: EventType[];
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
