/**
 * A widget's URL options, read against its manifest's options schema: every query parameter that
 * names a property of the schema is coerced to the property's type (`?size=48` → 48, `?avatars=1`
 * → true); one that breaks its property's schema is left out — the widget gets the default — and listed with why.
 */
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import type { IgnoredOption } from '@ttlp/sdk/host-contract';
import { describeErrors } from '@ttlp/sdk/contract';

/** Query parameters of every widget URL, never options. */
export const RESERVED_PARAMETERS = new Set(['token', 'debug']);

type ObjectSchema = { type?: unknown; properties?: Record<string, AnySchema & { type?: unknown }>; [key: string]: unknown };

/** A flag as URLs write it: `1`, `yes`, `on` or nothing at all (`?avatars`) mean true; `0`, `no`, `off` false. */
function flagText(text: string): string {
  const value = text.trim().toLowerCase();
  if (['1', 'yes', 'on', ''].includes(value)) return 'true';
  if (['0', 'no', 'off'].includes(value)) return 'false';
  return text;
}

/** Validators per widget schema and property; schemas come from manifests loaded once. */
const compiled = new WeakMap<object, { whole: ValidateFunction; properties: Map<string, ValidateFunction> }>();

function validatorsOf(schema: ObjectSchema) {
  let validators = compiled.get(schema);
  if (!validators) {
    const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: true, useDefaults: true });
    const properties = new Map(
      Object.entries(schema.properties ?? {}).map(([name, property]) => [name, ajv.compile({ type: 'object', properties: { [name]: property } })] as const),
    );
    validators = { whole: ajv.compile(schema), properties };
    compiled.set(schema, validators);
  }
  return validators;
}

export interface WidgetOptions {
  options: Record<string, unknown>;
  ignored: IgnoredOption[];
}

/** The widget's options from the URL's query parameters (repeated ones: the last counts). */
export function readWidgetOptions(widget: { optionsSchema: Record<string, unknown> | undefined }, query: URLSearchParams): WidgetOptions {
  const schema = widget.optionsSchema as ObjectSchema | undefined;
  const ignored: IgnoredOption[] = [];
  const given = [...query.entries()].filter(([name]) => !RESERVED_PARAMETERS.has(name));
  if (!schema) return { options: {}, ignored: given.map(([option]) => ({ option, reason: 'the widget has no such option' })) };
  const { whole, properties } = validatorsOf(schema);
  const options: Record<string, unknown> = {};
  for (const [option, text] of new Map(given)) {
    const validate = properties.get(option);
    if (!validate) {
      ignored.push({ option, reason: 'the widget has no such option' });
      continue;
    }
    const candidate: Record<string, unknown> = { [option]: schema.properties?.[option]?.type === 'boolean' ? flagText(text) : text };
    if (validate(candidate)) options[option] = candidate[option];
    else ignored.push({ option, reason: describeErrors(validate.errors).join('; ') });
  }
  // Fills in the defaults; options that pass one by one but not together are left out too.
  const kept = Object.keys(options);
  if (!whole(options)) {
    for (const option of kept) ignored.push({ option, reason: describeErrors(whole.errors).join('; ') });
    const defaults: Record<string, unknown> = {};
    whole(defaults);
    return { options: defaults, ignored };
  }
  return { options, ignored };
}
