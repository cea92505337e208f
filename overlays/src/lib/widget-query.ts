/**
 * The URL query of a plugin widget's options: each option that differs from its schema's default,
 * as text (the host reads it back against the same schema, `host/src/plugin-widgets/options.ts`).
 */
import type { JsonSchema } from './json-schema.ts';

export function widgetQuery(schema: JsonSchema, values: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const value = values[name];
    if (value === undefined || value === '' || JSON.stringify(value) === JSON.stringify(property.default)) continue;
    query.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return query.toString();
}
