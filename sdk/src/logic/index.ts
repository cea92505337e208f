/**
 * `@ttlp/sdk/logic`: rule conditions and text templates for plugins, with nothing in them that
 * can run code. Conditions are JSON Logic (https://jsonlogic.com), evaluated by json-logic-js but
 * checked first against an allow-list of operators; templates are `{dotted.path}` substitution.
 * Bundled into plugin isolates, so it imports no Node built-ins.
 */
import jsonLogic from 'json-logic-js';

/** The JSON Logic operators a condition may use; anything else (`method`, `log`, custom operations) is refused. */
export const CONDITION_OPERATORS: ReadonlySet<string> = new Set([
  '==', '===', '!=', '!==', '>', '>=', '<', '<=', '!', '!!', 'and', 'or', 'if', '?:', 'in', 'cat', 'substr',
  '+', '-', '*', '/', '%', 'min', 'max', 'var', 'missing', 'missing_some', 'some', 'all', 'none', 'merge',
]);

export const DEFAULT_MAX_DEPTH = 16;

export interface ConditionOptions {
  /** How deeply operations and arrays may nest (16 by default). */
  maxDepth?: number;
}

export interface Explanation {
  matched: boolean;
  /** Why: the sub-conditions that decided the result, with the values they saw. */
  reasons: string[];
}

export interface RenderedTemplate {
  text: string;
  /** Token paths with no value in the data (rendered as empty text), each once. */
  missing: string[];
}

/** Names that lead from any value to its prototype (and from there to `Function`); never a data field. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type JsonObject = Record<string, unknown>;

const isPlainObject = (value: unknown): value is JsonObject => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
};

/** `{}`: the condition that always matches (JSON Logic returns the empty object, which is truthy). */
const isAlways = (rule: unknown) => isPlainObject(rule) && Object.keys(rule).length === 0;

/** The operator of an operation node (an object with exactly one key), else undefined. */
const operatorOf = (node: unknown) => {
  if (!isPlainObject(node)) return undefined;
  const keys = Object.keys(node);
  return keys.length === 1 ? keys[0] : undefined;
};

/** An operation's arguments; JSON Logic lets a single argument stand without its array. */
const argumentsOf = (node: JsonObject, operator: string): unknown[] => {
  const args = node[operator];
  return Array.isArray(args) ? args : [args];
};

/** JSON Pointer segment (RFC 6901): operators such as `/` need escaping. */
const pointer = (at: string, key: string | number) => `${at}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

const describeType = (value: unknown) => {
  if (typeof value === 'object' && value !== null) return `a ${value.constructor?.name ?? 'non-plain'} object`;
  return value === undefined ? 'undefined' : `a ${typeof value}`;
};

/**
 * Every problem of a condition, as `<JSON pointer> <problem>`: operators outside the allow-list,
 * nesting deeper than `maxDepth`, values that are not JSON, computed or prototype `var` paths.
 * An empty list means `evaluateCondition` can run it. `{}` is the condition that always matches.
 */
export function checkCondition(rule: unknown, options: ConditionOptions = {}): string[] {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const problems: string[] = [];
  const report = (at: string, problem: string) => problems.push(`${at === '' ? '(root)' : at} ${problem}`);

  const visit = (node: unknown, at: string, depth: number): void => {
    if (node === null || typeof node === 'string' || typeof node === 'boolean') return;
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) report(at, `is ${node}, not a JSON number`);
      return;
    }
    if (!Array.isArray(node) && !isPlainObject(node)) return void report(at, `is ${describeType(node)}, not a JSON value`);
    // Checked before descending, which also stops at cyclic structures.
    if (depth > maxDepth) return void report(at, `nests deeper than ${maxDepth} levels`);
    if (Array.isArray(node)) return node.forEach((item, index) => visit(item, pointer(at, index), depth + 1));

    const keys = Object.keys(node);
    if (keys.length !== 1) return void report(at, `is an object with ${keys.length} keys; an operation has exactly one, its operator`);
    const operator = keys[0]!;
    if (!CONDITION_OPERATORS.has(operator)) return void report(at, `uses the unknown operator "${operator}"`);
    const args = node[operator];
    const argsAt = pointer(at, operator);
    if (operator === 'var') checkVarPath(Array.isArray(args) ? args[0] : args, Array.isArray(args) ? pointer(argsAt, 0) : argsAt, report);
    if (Array.isArray(args)) args.forEach((arg, index) => visit(arg, pointer(argsAt, index), depth + 1));
    else visit(args, argsAt, depth + 1);
  };

  if (!isAlways(rule)) visit(rule, '', 1);
  return problems;
}

/**
 * A `var` path must be written out: a computed one could spell `constructor` and walk from the
 * data to `Function`. (Without `method` nothing could call it, but nothing should reach it either.)
 */
function checkVarPath(path: unknown, at: string, report: (at: string, problem: string) => void): void {
  if (path === undefined || path === null || typeof path === 'number') return;
  if (typeof path !== 'string') return report(at, 'is a computed var path; a var path is a literal string or number');
  const reserved = path.split('.').find((segment) => PROTOTYPE_KEYS.has(segment));
  if (reserved !== undefined) report(at, `is a var path through "${reserved}", which is not data`);
}

function assertValid(rule: unknown, options: ConditionOptions | undefined): void {
  const problems = checkCondition(rule, options);
  if (problems.length > 0) throw new Error(`invalid condition:\n  - ${problems.join('\n  - ')}`);
}

const evaluate = (node: unknown, data: unknown) => jsonLogic.truthy(jsonLogic.apply(node as never, data));

/** Whether `data` satisfies `rule`; throws with the list of problems when `checkCondition` finds any. */
export function evaluateCondition(rule: unknown, data: unknown, options?: ConditionOptions): boolean {
  assertValid(rule, options);
  return isAlways(rule) || evaluate(rule, data);
}

/**
 * A dry run: the result and why. `and`/`or` are explained by the sub-conditions that decided
 * them (the false ones of a failed `and`, the true ones of a matched `or`, …); anything else by
 * one line with the values it saw, e.g. `payload.coins (5) >= 100 is false`.
 */
export function explainCondition(rule: unknown, data: unknown, options?: ConditionOptions): Explanation {
  assertValid(rule, options);
  if (isAlways(rule)) return { matched: true, reasons: ['no condition: always matches'] };
  const matched = evaluate(rule, data);
  return { matched, reasons: reasonsFor(rule, data, matched) };
}

function reasonsFor(node: unknown, data: unknown, result: boolean): string[] {
  const operator = operatorOf(node);
  if (operator === 'and' || operator === 'or') {
    const decisive = argumentsOf(node as JsonObject, operator).filter((arg) => evaluate(arg, data) === result);
    const reasons = decisive.flatMap((arg) => reasonsFor(arg, data, result));
    if (reasons.length > 0) return reasons;
  }
  return [`${describe(node, data)} is ${result}`];
}

/** Operators written between their operands in explanations. */
const INFIX_OPERATORS = new Set(['==', '===', '!=', '!==', '>', '>=', '<', '<=', 'in', '+', '-', '*', '/', '%']);
const SHOWN_VALUE_LENGTH = 60;

const show = (value: unknown) => {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > SHOWN_VALUE_LENGTH ? `${text.slice(0, SHOWN_VALUE_LENGTH - 1)}…` : text;
};

/** An expression as a person reads it, with the value of each `var` beside its path. */
function describe(node: unknown, data: unknown): string {
  if (Array.isArray(node)) return `[${node.map((item) => describe(item, data)).join(', ')}]`;
  const operator = operatorOf(node);
  if (operator === undefined) return show(node);
  const args = argumentsOf(node as JsonObject, operator);
  if (operator === 'var') {
    const path = args[0] === undefined || args[0] === null || args[0] === '' ? 'data' : String(args[0]);
    return `${path} (${show(jsonLogic.apply(node as never, data))})`;
  }
  // The condition of some/all/none reads each item, not `data`: shown as written.
  if (operator === 'some' || operator === 'all' || operator === 'none') return `${operator}(${describe(args[0], data)}, ${show(args[1])})`;
  if (INFIX_OPERATORS.has(operator) && args.length >= 2) {
    const operand = (arg: unknown) => (INFIX_OPERATORS.has(operatorOf(arg) ?? '') ? `(${describe(arg, data)})` : describe(arg, data));
    return args.map(operand).join(` ${operator} `);
  }
  return `${operator}(${args.map((arg) => describe(arg, data)).join(', ')})`;
}

type TemplatePart = { text: string } | { path: string };

/** A token: field names joined by dots (`user.displayName`, `payload.emotes.0.emoteId`), nothing else. */
const TOKEN_PATH = /^[A-Za-z0-9_$]+(?:\.[A-Za-z0-9_$]+)*$/;

/** Splits a template into text and tokens; throws on a brace that is neither a token nor escaped. */
function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  for (let index = 0; index < template.length; ) {
    const char = template[index]!;
    const next = template[index + 1];
    if ((char === '{' && next === '{') || (char === '}' && next === '}')) {
      text += char;
      index += 2;
    } else if (char === '}') {
      throw new Error(`invalid template: "}" at ${index} closes nothing (write "}}" for a literal brace)`);
    } else if (char === '{') {
      const end = template.indexOf('}', index);
      const path = end === -1 ? undefined : template.slice(index + 1, end);
      if (path === undefined || !TOKEN_PATH.test(path))
        throw new Error(`invalid template: "{" at ${index} does not start a {dotted.path} token (write "{{" for a literal brace)`);
      if (text !== '') parts.push({ text });
      parts.push({ path });
      text = '';
      index = end + 1;
    } else {
      text += char;
      index += 1;
    }
  }
  if (text !== '') parts.push({ text });
  return parts;
}

/** The token paths of a template, each once, in order; throws on a malformed template. */
export function templateTokens(template: string): string[] {
  return [...new Set(parseTemplate(template).flatMap((part) => ('path' in part ? [part.path] : [])))];
}

/** The value at a dotted path, following own properties only; undefined when there is none. */
export function valueAtPath(data: unknown, path: string): unknown {
  let value = data;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as JsonObject)[key];
  }
  return value;
}

/**
 * Fills each `{dotted.path}` token with the value at that path in `data`: text as is, numbers and
 * booleans as written, objects and arrays as JSON. A path with no value (absent or null) renders
 * as empty text and is listed in `missing`. `{{` and `}}` are literal braces; any other brace
 * throws. No expressions: a template cannot compute or reach anything but the data's own fields.
 */
export function renderTemplate(template: string, data: object): RenderedTemplate {
  const missing = new Set<string>();
  const text = parseTemplate(template)
    .map((part) => {
      if ('text' in part) return part.text;
      const value = valueAtPath(data, part.path);
      if (value === undefined || value === null) {
        missing.add(part.path);
        return '';
      }
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    })
    .join('');
  return { text, missing: [...missing] };
}
