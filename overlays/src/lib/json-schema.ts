/**
 * The part of JSON Schema the settings page turns into forms (objects, strings, numbers,
 * booleans, enums, arrays of those or of objects) and checks before saving (required,
 * minimum/maximum, length, pattern, item counts). The host validates everything again.
 */

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  /** Items of the list must differ in each of these properties. */
  uniqueItemProperties?: string[];
  writeOnly?: boolean;
  oneOf?: unknown[];
  anyOf?: unknown[];
  allOf?: unknown[];
  [keyword: string]: unknown;
}

export type FieldKind =
  | 'object'
  | 'string'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'enum'
  | 'const'
  | 'enum-set'
  | 'primitive-array'
  | 'object-array'
  | 'variant'
  | 'json';

const PRIMITIVE_KINDS: readonly FieldKind[] = ['string', 'number', 'integer', 'boolean', 'enum'];

export function asSchema(value: unknown): JsonSchema {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonSchema) : {};
}

/** A `oneOf` whose every entry is a `const` (with a `title` to show): a list of labelled choices. */
const labelledChoices = (schema: JsonSchema): boolean =>
  Array.isArray(schema.oneOf) && schema.oneOf.length > 0 && schema.oneOf.every((entry) => 'const' in asSchema(entry));

/** The values a choice field offers, each with the label to show (its `title`, else the value). */
export function choicesOf(schema: JsonSchema): Array<{ value: unknown; label: string }> {
  if (labelledChoices(schema))
    return schema.oneOf!.map((entry) => {
      const choice = asSchema(entry);
      return { value: choice.const, label: typeof choice.title === 'string' ? choice.title : String(choice.const) };
    });
  return (schema.enum ?? []).map((value) => ({ value, label: String(value) }));
}

/** One kind of object a `variant` field may hold: the value of its tag property, and its schema. */
export interface Variant {
  tag: unknown;
  label: string;
  schema: JsonSchema;
}

/**
 * The kinds of object a `oneOf` offers, when each is an object that one property (its tag, such
 * as `type`) tells apart with a `const`: `{ type: 'overlay', … }` or `{ type: 'webhook', … }`.
 */
export function variantsOf(schema: JsonSchema): { tagKey: string; variants: Variant[] } | null {
  const entries = Array.isArray(schema.oneOf) ? schema.oneOf.map(asSchema) : [];
  if (entries.length < 2 || !entries.every((entry) => entry.type === 'object' && entry.properties)) return null;
  const tagKey = Object.keys(entries[0]!.properties!).find((key) => entries.every((entry) => 'const' in asSchema(entry.properties?.[key])));
  if (tagKey === undefined) return null;
  const variants = entries.map((entry) => {
    const tag = asSchema(entry.properties![tagKey]).const;
    return { tag, label: typeof entry.title === 'string' ? entry.title : String(tag), schema: entry };
  });
  return new Set(variants.map((variant) => JSON.stringify(variant.tag))).size === variants.length ? { tagKey, variants } : null;
}

/** The variant `value` is, by its tag. */
export function variantOf(schema: JsonSchema, value: unknown): Variant | undefined {
  const found = variantsOf(schema);
  return found && isPlainObject(value) ? found.variants.find((variant) => variant.tag === value[found.tagKey]) : undefined;
}

/** How a schema is edited; anything this page cannot build a form for is edited as JSON text. */
export function fieldKind(schema: JsonSchema): FieldKind {
  if (labelledChoices(schema)) return 'enum';
  if (variantsOf(schema)) return 'variant';
  if (schema.oneOf || schema.anyOf || schema.allOf || Array.isArray(schema.type)) return 'json';
  if ('const' in schema) return 'const';
  if (Array.isArray(schema.enum) && schema.enum.length > 0 && schema.type !== 'array' && schema.type !== 'object') {
    return schema.enum.every((value) => value === null || ['string', 'number', 'boolean'].includes(typeof value)) ? 'enum' : 'json';
  }
  switch (schema.type) {
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
      return schema.type;
    case 'array': {
      const items = asSchema(schema.items);
      const itemKind = schema.items === undefined ? 'json' : fieldKind(items);
      if (itemKind === 'enum' && schema.uniqueItems === true) return 'enum-set';
      if (PRIMITIVE_KINDS.includes(itemKind)) return 'primitive-array';
      if (itemKind === 'object' || itemKind === 'variant') return 'object-array';
      return 'json';
    }
    case 'object':
    case undefined:
      return schema.properties !== undefined && Object.keys(schema.properties).length > 0 ? 'object' : 'json';
    default:
      return 'json';
  }
}

const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The config as the form edits it: a copy of `config` in which every object field exists and
 * every unset array field holds its default, so the form shows what applies. Scalars stay
 * unset; their inputs show the default as a placeholder.
 */
export function prepareDraft(schema: JsonSchema, config: unknown): Record<string, unknown> {
  const draft = isPlainObject(config) ? clone(config) : {};
  fillObject(schema, draft);
  return draft;
}

function fillObject(schema: JsonSchema, target: Record<string, unknown>): void {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const kind = fieldKind(child);
    if (kind === 'object') {
      if (!isPlainObject(target[key])) target[key] = isPlainObject(child.default) ? clone(child.default) : {};
      fillObject(child, target[key] as Record<string, unknown>);
    } else if ((kind === 'object-array' || kind === 'primitive-array' || kind === 'enum-set') && target[key] === undefined) {
      if (Array.isArray(child.default)) target[key] = clone(child.default);
    }
    if (kind === 'object-array' && Array.isArray(target[key])) {
      const items = asSchema(child.items);
      for (const item of target[key] as unknown[]) if (isPlainObject(item)) fillObject(variantOf(items, item)?.schema ?? items, item);
    }
  }
}

/** A new item for an array: the schema's default, or an empty value of its kind. */
export function newValueFor(schema: JsonSchema): unknown {
  if (schema.default !== undefined) return clone(schema.default);
  switch (fieldKind(schema)) {
    case 'variant': {
      // The first kind, its tag set.
      const found = variantsOf(schema)!;
      const first = found.variants[0]!;
      return { ...(newValueFor(first.schema) as Record<string, unknown>), [found.tagKey]: first.tag };
    }
    case 'object': {
      const value: Record<string, unknown> = {};
      fillObject(schema, value);
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        if (value[key] === undefined && child.default !== undefined) value[key] = clone(child.default);
      }
      return value;
    }
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return schema.minimum ?? 0;
    case 'boolean':
      return false;
    case 'enum':
      return choicesOf(schema)[0]?.value;
    case 'const':
      return schema.const;
    default:
      return undefined;
  }
}

/** Problems found in a value, keyed by JSON Pointer (`/goals/0/id`; `` for the whole value). */
export type Problems = Record<string, string[]>;

export function validate(schema: JsonSchema, value: unknown): Problems {
  const problems: Problems = {};
  check(schema, value, '', problems);
  return problems;
}

const add = (problems: Problems, pointer: string, message: string) => {
  (problems[pointer] ??= []).push(message);
};

export const pointerOf = (parent: string, key: string | number) =>
  `${parent}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;

function check(schema: JsonSchema, value: unknown, pointer: string, problems: Problems): void {
  if (value === undefined) return;
  const kind = fieldKind(schema);
  switch (kind) {
    case 'variant': {
      const found = variantsOf(schema)!;
      const variant = variantOf(schema, value);
      if (!variant) return add(problems, pointerOf(pointer, found.tagKey), `must be one of ${found.variants.map((entry) => entry.label).join(', ')}`);
      return check(variant.schema, value, pointer, problems);
    }
    case 'object': {
      if (!isPlainObject(value)) return add(problems, pointer, 'must be an object');
      for (const key of schema.required ?? []) {
        if (value[key] === undefined || value[key] === '') add(problems, pointerOf(pointer, key), `must have required property '${key}'`);
      }
      for (const [key, child] of Object.entries(schema.properties ?? {})) check(child, value[key], pointerOf(pointer, key), problems);
      return;
    }
    case 'string': {
      if (typeof value !== 'string') return add(problems, pointer, 'must be text');
      const length = [...value].length;
      if (schema.minLength !== undefined && length < schema.minLength) add(problems, pointer, `must not have fewer than ${schema.minLength} characters`);
      if (schema.maxLength !== undefined && length > schema.maxLength) add(problems, pointer, `must not have more than ${schema.maxLength} characters`);
      if (schema.pattern !== undefined && !matches(schema.pattern, value)) add(problems, pointer, `must match pattern "${schema.pattern}"`);
      return;
    }
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return add(problems, pointer, 'must be a number');
      if (kind === 'integer' && !Number.isInteger(value)) add(problems, pointer, 'must be a whole number');
      if (schema.minimum !== undefined && value < schema.minimum) add(problems, pointer, `must be >= ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) add(problems, pointer, `must be <= ${schema.maximum}`);
      if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) add(problems, pointer, `must be > ${schema.exclusiveMinimum}`);
      if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) add(problems, pointer, `must be < ${schema.exclusiveMaximum}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') add(problems, pointer, 'must be true or false');
      return;
    case 'enum':
      if (!choicesOf(schema).some((choice) => choice.value === value)) add(problems, pointer, 'must be one of the listed values');
      return;
    case 'enum-set':
    case 'primitive-array':
    case 'object-array': {
      if (!Array.isArray(value)) return add(problems, pointer, 'must be a list');
      if (schema.minItems !== undefined && value.length < schema.minItems) add(problems, pointer, `must have at least ${schema.minItems} items`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) add(problems, pointer, `must have at most ${schema.maxItems} items`);
      if (schema.uniqueItems === true && kind !== 'object-array' && new Set(value).size !== value.length) {
        add(problems, pointer, 'must not have duplicate items');
      }
      // Items that must differ in these properties (ajv-keywords' uniqueItemProperties, which the host checks too).
      for (const property of schema.uniqueItemProperties ?? []) {
        const seen = new Map<string, number>();
        value.forEach((item, index) => {
          if (!isPlainObject(item) || item[property] === undefined) return;
          const key = JSON.stringify(item[property]);
          const first = seen.get(key);
          if (first === undefined) seen.set(key, index);
          else add(problems, pointerOf(pointerOf(pointer, index), property), `must differ from item ${first + 1}'s ${property} (${String(item[property])})`);
        });
      }
      const items = asSchema(schema.items);
      value.forEach((item, index) => check(items, item, pointerOf(pointer, index), problems));
      return;
    }
    default:
      return;
  }
}

function matches(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    // A pattern this browser cannot compile is left to the host.
    return true;
  }
}

/**
 * The JSON Pointer a server-side problem is about, when it names one: the host's
 * `"/gift/minCoins must be >= 0"` (ajv's instancePath, then its message; `(root)` for the whole
 * config), or an object with `instancePath` / `path`.
 */
export function problemPointer(problem: unknown): string | null {
  if (typeof problem === 'string') {
    const match = /^(\/\S*|\(root\)) /.exec(problem);
    return match ? (match[1] === '(root)' ? '' : (match[1] ?? null)) : null;
  }
  if (problem === null || typeof problem !== 'object') return null;
  const { instancePath, path } = problem as { instancePath?: unknown; path?: unknown };
  const pointer = typeof instancePath === 'string' ? instancePath : typeof path === 'string' ? path : null;
  if (pointer === null) return null;
  if (pointer === '' || pointer.startsWith('/')) return pointer;
  // A dotted path such as "goals.0.id".
  return `/${pointer.replace(/^\$\.?/, '').split('.').join('/')}`;
}

/** What a server-side problem says, without the pointer it starts with. */
export function problemMessage(problem: unknown): string {
  if (typeof problem === 'string') return problem.replace(/^(\/\S*|\(root\)) /, '');
  if (problem !== null && typeof problem === 'object' && typeof (problem as { message?: unknown }).message === 'string') {
    return (problem as { message: string }).message;
  }
  return JSON.stringify(problem);
}

/** A server-side problem as one line of text. */
export function problemText(problem: unknown): string {
  if (typeof problem === 'string') return problem;
  const pointer = problemPointer(problem);
  return pointer ? `${pointer}: ${problemMessage(problem)}` : problemMessage(problem);
}
