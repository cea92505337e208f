/**
 * Lays a widget's page out by its look options (../widget-look.ts): the root fills the canvas,
 * holds the widget at its position inside the margin, and carries the font, the text outline and
 * the CSS variables the widget's styles read. Values were checked by the host against the look
 * schemas; a colour name the browser does not know falls back to the default.
 */
import { LOOK_DEFAULTS, LOOK_POSITIONS, type Look, type LookPosition } from '../widget-look.ts';

const GENERIC_FONTS = new Set(['serif', 'sans-serif', 'monospace', 'cursive', 'fantasy', 'system-ui', 'ui-sans-serif', 'ui-serif', 'ui-monospace', 'ui-rounded']);

/** A font-family list in CSS: named families quoted, a generic one appended when none is given. */
export function fontFamily(list: string): string {
  const families = list
    .split(',')
    .map((family) => family.trim().replace(/\s+/g, ' '))
    .filter((family) => family !== '')
    .map((family) => (GENERIC_FONTS.has(family.toLowerCase()) ? family.toLowerCase() : `"${family.replace(/"/g, '')}"`));
  if (!families.some((family) => GENERIC_FONTS.has(family))) families.push('sans-serif');
  return families.join(', ');
}

/** A colour in CSS: bare hex gets its `#`; one the browser rejects becomes `fallback`. */
export function cssColor(value: unknown, fallback: string): string {
  if (typeof value !== 'string' || value.trim() === '') return fallback;
  const color = /^[0-9a-f]{3,8}$/i.test(value.trim()) ? `#${value.trim()}` : value.trim();
  if (typeof CSS !== 'undefined' && typeof CSS.supports === 'function' && !CSS.supports('color', color)) return fallback;
  return color;
}

const [VERTICAL, HORIZONTAL] = [
  { top: 'flex-start', bottom: 'flex-end' } as Record<string, string>,
  { left: 'flex-start', right: 'flex-end' } as Record<string, string>,
];

/** The look in `options` (the widget's options, defaults filled in by the host). */
export function lookOf(options: Record<string, unknown>): Look {
  const number = (name: keyof Look, fallback: number) => (typeof options[name] === 'number' ? (options[name] as number) : fallback);
  const position = (LOOK_POSITIONS as readonly string[]).includes(options.position as string) ? (options.position as LookPosition) : LOOK_DEFAULTS.position;
  return {
    color: cssColor(options.color, LOOK_DEFAULTS.color),
    bg: cssColor(options.bg, LOOK_DEFAULTS.bg),
    accent: cssColor(options.accent, LOOK_DEFAULTS.accent),
    shadow: options.shadow === 'none' ? 'none' : cssColor(options.shadow, LOOK_DEFAULTS.shadow),
    font: fontFamily(typeof options.font === 'string' ? options.font : LOOK_DEFAULTS.font),
    fontSize: number('fontSize', LOOK_DEFAULTS.fontSize),
    position,
    margin: number('margin', LOOK_DEFAULTS.margin),
    ...(typeof options.width === 'number' ? { width: options.width } : {}),
  };
}

/** Lays `root` out by the look: the widget's content goes inside it. */
export function applyLook(root: HTMLElement, look: Look): void {
  const [vertical, horizontal] = look.position === 'center' ? ['center', 'center'] : look.position.split('-');
  const style = root.style;
  style.position = 'fixed';
  style.inset = '0';
  style.boxSizing = 'border-box';
  style.display = 'flex';
  style.flexDirection = 'column';
  // `left`/`right` alone are centred vertically; `top`/`bottom` alone horizontally.
  style.justifyContent = VERTICAL[vertical!] ?? 'center';
  style.alignItems = HORIZONTAL[horizontal ?? vertical!] ?? 'center';
  root.dataset.position = look.position;
  style.padding = `${look.margin}px`;
  style.color = look.color;
  style.fontFamily = look.font;
  style.fontSize = `${look.fontSize}px`;
  style.lineHeight = '1.25';
  style.pointerEvents = 'none';
  style.textShadow = look.shadow === 'none' ? 'none' : `0 0 2px ${look.shadow}, 0 0 4px ${look.shadow}, 1px 1px 2px ${look.shadow}`;
  // Content that wraps lines up with the side the widget sits on.
  style.setProperty('--ttlp-align', style.alignItems);
  style.setProperty('--ttlp-color', look.color);
  style.setProperty('--ttlp-bg', look.bg);
  style.setProperty('--ttlp-accent', look.accent);
  style.setProperty('--ttlp-shadow', look.shadow === 'none' ? 'transparent' : look.shadow);
  if (look.width !== undefined) style.setProperty('--ttlp-width', `${look.width}px`);
}
