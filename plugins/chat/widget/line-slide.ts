/**
 * How a chat line comes and goes: its box grows from nothing to its full height (and shrinks
 * back when it leaves). The lines around it are moved by layout, frame by frame, so none is ever
 * drawn over another — a transform would move a line's picture but not the space it takes, and
 * the lines beside it would slide under or over it.
 */
import { cubicOut } from 'svelte/easing';
import type { TransitionConfig } from 'svelte/transition';

/** A line's box as laid out, px (height as `box-sizing` counts it), and its opacity. */
export interface LineBox {
  height: number;
  paddingTop: number;
  paddingBottom: number;
  opacity: number;
  /** The list's gap between lines, which the line opens as it grows. */
  gap: number;
}

/**
 * The line's inline style at `t` (0: no room at all, 1: as laid out). The negative margin takes
 * back the gap the list puts next to the line, so it too opens gradually instead of at once.
 */
export function lineSlideStyle(box: LineBox, t: number): string {
  const px = (value: number) => `${Number((value * t).toFixed(3))}px`;
  return [
    'overflow: hidden',
    'min-height: 0',
    `height: ${px(box.height)}`,
    `padding-top: ${px(box.paddingTop)}`,
    `padding-bottom: ${px(box.paddingBottom)}`,
    `margin-top: ${Number((box.gap * (t - 1)).toFixed(3))}px`,
    `opacity: ${Number((box.opacity * t).toFixed(3))}`,
  ].join('; ');
}

/** Reads the box of `node` as laid out now (lengths that do not parse count as 0). */
export function measureLineBox(node: HTMLElement): LineBox {
  const style = getComputedStyle(node);
  const list = node.parentElement === null ? null : getComputedStyle(node.parentElement);
  const length = (value: string | undefined) => Number.parseFloat(value ?? '') || 0;
  return {
    height: length(style.height),
    paddingTop: length(style.paddingTop),
    paddingBottom: length(style.paddingBottom),
    opacity: Number.parseFloat(style.opacity) || 0,
    gap: length(list?.rowGap),
  };
}

/** The Svelte transition of a chat line, in and out. */
export function lineSlide(node: HTMLElement, { duration = 250 }: { duration?: number } = {}): TransitionConfig {
  const box = measureLineBox(node);
  return { duration, easing: cubicOut, css: (t) => lineSlideStyle(box, t) };
}
