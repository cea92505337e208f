/** Values for the `{token}` placeholders of one alert text. */
export type TemplateValues = Readonly<Record<string, string | number>>;

/**
 * Replaces each `{name}` that names a key of `values`; any other `{…}` stays as written, so a typo
 * shows up on screen instead of vanishing. Plain substitution: a template cannot run code or reach
 * fields it was not given. (The manifest's config schema already rejects unknown tokens.)
 */
export function renderTemplate(template: string, values: TemplateValues): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (token, name: string) => (Object.hasOwn(values, name) ? String(values[name]) : token));
}
