/**
 * The plugin manifest: `package.json` → `"ttlp"`. What a plugin is, what it asks for, and the
 * schema of its settings. Validated with every problem listed at once.
 */
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import ajvKeywordsModule from 'ajv-keywords';
import { Type, type Static } from 'typebox';
import { EVENT_TYPES } from './contract/constants.ts';
import { describeErrors } from './contract/validate.ts';
import { LOOK_OPTION_SCHEMAS, LOOK_OPTIONS, type Look } from './widget-look.ts';

export { LOOK_DEFAULTS, LOOK_OPTIONS, lookOptionSchemas, type Look } from './widget-look.ts';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const ajvKeywords = ajvKeywordsModule as unknown as typeof ajvKeywordsModule.default;

/**
 * The validator of plugin settings schemas: JSON Schema, plus `uniqueItemProperties` (items of a
 * list that must differ in those properties: two goals with the same id), which the settings
 * page checks too.
 */
function settingsAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, verbose: true });
  ajvKeywords(ajv, ['uniqueItemProperties']);
  return ajv;
}

export const PLUGIN_ID_PATTERN = '^[a-z][a-z0-9-]{1,62}[a-z0-9]$';
const CHANNEL_PATTERN = '^[a-z][a-z0-9-]{0,63}$';

export const PluginPermissionsSchema = Type.Object(
  {
    events: Type.Array(Type.Union([...EVENT_TYPES.map((type) => Type.Literal(type)), Type.Literal('*')]), {
      uniqueItems: true,
      description: "Event types the plugin receives; '*' for all",
    }),
    http: Type.Optional(
      Type.Array(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 }), {
        uniqueItems: true,
        description: 'URL globs the plugin may fetch (`*` matches within a path segment or host label, `**` anything)',
      }),
    ),
    kv: Type.Optional(Type.Boolean({ description: 'Uses the persistent key-value store' })),
  },
  { additionalProperties: false },
);

export const WIDGET_ID_PATTERN = '^[a-z][a-z0-9-]{0,31}$';

/** What a widget's page is sized for when its manifest does not say: a landscape 1080p scene. */
export const DEFAULT_WIDGET_SIZE = { width: 1920, height: 1080 } as const;

/** A widget's own defaults of the look options (widget-look.ts). */
const WidgetLookSchema = Type.Unsafe<Partial<Look>>({
  type: 'object',
  additionalProperties: false,
  properties: LOOK_OPTION_SCHEMAS,
  description: 'The widget takes the look options (position, colours, font, size) as URL options, and its page is laid out by them; these are its defaults ({} for the host\'s)',
});

export const PluginWidgetSchema = Type.Object(
  {
    id: Type.String({ pattern: WIDGET_ID_PATTERN, description: "Lower-case id, unique among the plugin's widgets" }),
    displayName: Type.String({ minLength: 1, maxLength: 64 }),
    entry: Type.String({ minLength: 1, maxLength: 256, description: "The widget's browser module (TS or JS), relative to the package folder" }),
    channels: Type.Array(Type.String({ pattern: CHANNEL_PATTERN }), {
      minItems: 1,
      uniqueItems: true,
      description: "Channels of the plugin's `overlayChannels` the widget shows",
    }),
    size: Type.Optional(
      Type.Object(
        { width: Type.Integer({ minimum: 16, maximum: 7680 }), height: Type.Integer({ minimum: 16, maximum: 7680 }) },
        { additionalProperties: false, description: 'The size of the OBS browser source it is made for; default 1920×1080 (1080×1920 for a vertical stream)' },
      ),
    ),
    options: Type.Optional(Type.Object({}, { additionalProperties: true, description: "JSON Schema of the widget's options, set per URL (query parameters)" })),
    look: Type.Optional(WidgetLookSchema),
  },
  { additionalProperties: false },
);

export const PluginManifestSchema = Type.Object(
  {
    id: Type.String({ pattern: PLUGIN_ID_PATTERN, description: 'Lower-case id, unique on the host' }),
    displayName: Type.String({ minLength: 1, maxLength: 64 }),
    version: Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+([-+][0-9A-Za-z.-]+)?$' }),
    description: Type.Optional(Type.String({ maxLength: 512 })),
    entry: Type.String({ minLength: 1, maxLength: 256, description: 'Entry file, relative to the package folder' }),
    permissions: PluginPermissionsSchema,
    overlayChannels: Type.Optional(
      Type.Array(Type.String({ pattern: CHANNEL_PATTERN }), { uniqueItems: true, description: 'Overlay channels the plugin writes' }),
    ),
    config: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'JSON Schema of the plugin settings' })),
    widgets: Type.Optional(Type.Array(PluginWidgetSchema, { maxItems: 16, description: 'Overlay widgets the plugin ships: each a page for OBS showing some of its channels' })),
  },
  { additionalProperties: false, $id: 'https://ttlp.dev/contracts/plugin-manifest.v1.schema.json' },
);

export type PluginManifest = Static<typeof PluginManifestSchema>;
export type PluginPermissions = Static<typeof PluginPermissionsSchema>;
export type PluginWidget = Static<typeof PluginWidgetSchema>;

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
addFormats(ajv);
const validateShape = ajv.compile<PluginManifest>(PluginManifestSchema);

export type ManifestResult = { ok: true; manifest: PluginManifest } | { ok: false; problems: string[] };

/** Validates a manifest, including that its config schema is itself a usable JSON Schema. */
export function validateManifest(value: unknown): ManifestResult {
  if (!validateShape(value)) return { ok: false, problems: describeErrors(validateShape.errors) };
  const problems: string[] = [];
  if (value.config !== undefined) {
    try {
      settingsAjv().compile(value.config as AnySchema);
    } catch (error) {
      problems.push(`/config is not a valid JSON Schema: ${(error as Error).message}`);
    }
  }
  if (!insideFolder(value.entry)) problems.push('/entry must stay inside the plugin folder');
  problems.push(...widgetProblems(value));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, manifest: value };
}

/** True for a relative path that stays inside the plugin folder. */
function insideFolder(file: string): boolean {
  return !file.startsWith('/') && !/^[a-zA-Z]:/.test(file) && !file.split(/[\\/]/).includes('..');
}

/** What is wrong with the manifest's widgets beyond their shape: ids, entries, channels, options schemas. */
function widgetProblems(manifest: PluginManifest): string[] {
  const problems: string[] = [];
  const declared = new Set(manifest.overlayChannels ?? []);
  const seen = new Set<string>();
  (manifest.widgets ?? []).forEach((widget, index) => {
    const where = `/widgets/${index}`;
    if (seen.has(widget.id)) problems.push(`${where}/id "${widget.id}" is used by another widget of the plugin`);
    seen.add(widget.id);
    if (!insideFolder(widget.entry)) problems.push(`${where}/entry must stay inside the plugin folder`);
    for (const channel of widget.channels)
      if (!declared.has(channel)) problems.push(`${where}/channels: "${channel}" is not one of the plugin's overlayChannels`);
    if (widget.options !== undefined) {
      const own = Object.keys((widget.options as { properties?: object }).properties ?? {});
      if (widget.look !== undefined)
        for (const name of own.filter((option) => (LOOK_OPTIONS as string[]).includes(option)))
          problems.push(`${where}/options/properties/${name} is a look option: set its default in ${where}/look instead`);
      for (const name of own.filter((option) => option === 'token' || option === 'debug'))
        problems.push(`${where}/options/properties/${name}: "${name}" is a parameter of every widget URL, not an option`);
      if ((widget.options as { type?: unknown }).type !== 'object') problems.push(`${where}/options must be a JSON Schema of type "object" (one property per URL option)`);
      try {
        const validate = new Ajv({ strict: false, useDefaults: true }).compile(widget.options as AnySchema);
        // A URL without options gets the defaults: they must pass the schema themselves.
        if ((widget.options as { type?: unknown }).type === 'object' && !validate({})) problems.push(`${where}/options: its defaults break it: ${describeErrors(validate.errors).join('; ')}`);
      } catch (error) {
        problems.push(`${where}/options is not a valid JSON Schema: ${(error as Error).message}`);
      }
    }
  });
  return problems;
}

/**
 * The permissions a manifest asks for, as the strings that are granted and stored:
 * `events:<TYPE>`, `overlay:<channel>`, `http:<url glob>`, `kv`.
 */
export function requestedPermissions(manifest: PluginManifest): string[] {
  return [
    ...manifest.permissions.events.map((type) => `events:${type}`),
    ...(manifest.overlayChannels ?? []).map((channel) => `overlay:${channel}`),
    ...(manifest.permissions.http ?? []).map((glob) => `http:${glob}`),
    ...(manifest.permissions.kv ? ['kv'] : []),
  ];
}

/** The permissions `manifest` requests that `granted` lacks, in the manifest's order. */
export function missingPermissions(manifest: PluginManifest, granted: readonly string[]): string[] {
  return requestedPermissions(manifest).filter((permission) => !granted.includes(permission));
}

export type ConfigResult = { ok: true; config: Record<string, unknown> } | { ok: false; problems: string[] };

const configValidators = new WeakMap<object, ValidateFunction>();

/** Checks settings against the plugin's config schema and fills in its defaults (on a copy). */
export function validatePluginConfig(manifest: PluginManifest, config: unknown): ConfigResult {
  const copy = structuredClone(config ?? {}) as Record<string, unknown>;
  if (manifest.config === undefined) return { ok: true, config: copy };
  let validate = configValidators.get(manifest.config);
  if (!validate) {
    validate = settingsAjv().compile(manifest.config as AnySchema);
    configValidators.set(manifest.config, validate);
  }
  return validate(copy) ? { ok: true, config: copy } : { ok: false, problems: describeErrors(validate.errors) };
}
