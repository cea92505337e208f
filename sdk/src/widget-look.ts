/**
 * A widget's look: where it sits on its canvas, its colours, font and size. A manifest widget that
 * declares `look` (its own defaults, or `{}` for these) gets these URL options beside its own, in
 * the settings page's form too, and its page is laid out by them before the widget draws: its root
 * fills the canvas, places the widget at `position` inside `margin`, and sets the font and the
 * CSS variables `--ttlp-color`, `--ttlp-bg`, `--ttlp-accent`, `--ttlp-shadow` and `--ttlp-width`.
 * Plain data with no dependencies: the host checks URLs with it, the widget SDK applies it.
 */

export const LOOK_POSITIONS = ['top-left', 'top', 'top-right', 'left', 'center', 'right', 'bottom-left', 'bottom', 'bottom-right'] as const;
export type LookPosition = (typeof LOOK_POSITIONS)[number];

export interface Look {
  /** Text colour. */
  color: string;
  /** Panel background. */
  bg: string;
  /** Highlight: bars, borders, icons. */
  accent: string;
  /** Text outline colour, or `none`. */
  shadow: string;
  /** A font-family list, e.g. `Poppins, sans-serif`. */
  font: string;
  /** px */
  fontSize: number;
  position: LookPosition;
  /** Distance from the canvas's edges, px. */
  margin: number;
  /** Panel width, px; unset: as wide as the content needs. */
  width?: number;
}

/** The look of a widget whose manifest sets no default of its own. */
export const LOOK_DEFAULTS: Readonly<Omit<Look, 'width'>> = {
  color: '#ffffff',
  bg: 'rgba(12, 12, 20, 0.6)',
  accent: '#25f4ee',
  shadow: 'rgba(0, 0, 0, 0.85)',
  font: 'Inter, Segoe UI, Roboto, Arial, sans-serif',
  fontSize: 28,
  position: 'top-left',
  margin: 40,
};

/** `#rgb[a]` or `#rrggbb[aa]` (the `#` may be left out), `rgb()`/`rgba()`/`hsl()`/`hsla()` of numbers, or a colour name. */
const COLOR_PATTERN = '^(?:#?(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|(?:rgba?|hsla?)\\(\\s*[0-9.]+%?(?:\\s*[,\\s/]\\s*[0-9.]+%?){2,3}\\s*\\)|[a-zA-Z]{3,24})$';
/** Up to five families of letters, digits, spaces, `-` and `_`, separated by commas. */
const FONT_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9 _-]{0,63}(?:\\s*,\\s*[a-zA-Z0-9][a-zA-Z0-9 _-]{0,63}){0,4}$';

const color = (title: string) => ({ type: 'string', title, pattern: COLOR_PATTERN, maxLength: 64 });

/** Each look option's JSON Schema, without its default. */
export const LOOK_OPTION_SCHEMAS = {
  color: color('Text colour'),
  bg: color('Background'),
  accent: color('Accent colour'),
  shadow: { type: 'string', title: 'Text outline (a colour, or none)', pattern: `(?:${COLOR_PATTERN})|^none$`, maxLength: 64 },
  font: { type: 'string', title: 'Font', pattern: FONT_PATTERN, maxLength: 200 },
  fontSize: { type: 'integer', title: 'Font size (px)', minimum: 8, maximum: 200 },
  position: { type: 'string', title: 'Position', enum: [...LOOK_POSITIONS] },
  margin: { type: 'integer', title: 'Margin (px)', minimum: 0, maximum: 1000 },
  width: { type: 'integer', title: 'Width (px)', minimum: 50, maximum: 7680 },
} as const satisfies Record<keyof Look, Record<string, unknown>>;

export const LOOK_OPTIONS = Object.keys(LOOK_OPTION_SCHEMAS) as Array<keyof Look>;

/** The look options' schemas with the widget's defaults (its manifest's `look` over LOOK_DEFAULTS). */
export function lookOptionSchemas(defaults: Partial<Look>): Record<string, Record<string, unknown>> {
  const merged: Partial<Look> = { ...LOOK_DEFAULTS, ...defaults };
  return Object.fromEntries(
    LOOK_OPTIONS.map((name) => [name, merged[name] === undefined ? { ...LOOK_OPTION_SCHEMAS[name] } : { ...LOOK_OPTION_SCHEMAS[name], default: merged[name] }]),
  );
}
