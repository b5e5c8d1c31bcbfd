// Point colours from a metadata column: a categorical palette, a perceptual gradient for numbers,
// grey for missing values, and the legend that explains them.

import type { CellValue } from '../data/columns';

export type Rgb = readonly [number, number, number];

/**
 * 24 categorical colours: Tableau 10 (minus its grey, which means "missing" here), extended by a
 * greedy max-min search in CIELAB over colours of lightness 48–82 and chroma 32–62, so every
 * colour reads on a white and on a dark background. The first 20 are at least ΔE 28 apart.
 * Categories beyond the palette reuse it from the start.
 */
export const CATEGORICAL_PALETTE: readonly Rgb[] = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7',
  '#9c755f', '#7869d2', '#00e1b4', '#87780f', '#ffa5ff', '#d2c387', '#d24b96', '#00c3ff',
  '#b4b4ff', '#0096ff', '#b4d25a', '#008769', '#ffa578', '#00e1f0', '#b45a2d', '#78874b',
].map(hexToRgb);

/** Viridis (matplotlib), sampled at 11 even stops and interpolated linearly in between. */
export const VIRIDIS_STOPS: readonly Rgb[] = [
  '#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c',
  '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725',
].map(hexToRgb);

export const MISSING_COLOR: Rgb = hexToRgb('#9e9e9e');
/** Points before any "Color by" choice. */
export const DEFAULT_POINT_COLOR: Rgb = hexToRgb('#4e79a7');

export interface CategoryEntry {
  label: string;
  color: Rgb;
  count: number;
}

export type Legend =
  | { kind: 'categorical'; entries: CategoryEntry[]; missing: number }
  | { kind: 'numeric'; min: number; max: number; stops: readonly Rgb[]; missing: number };

export interface ColorMapping {
  /** N × 4 RGBA bytes, ready for `ScatterPlot.setColors`. */
  colors: Uint8Array;
  legend: Legend;
}

export function hexToRgb(hex: string): Rgb {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

export function rgbToHex([r, g, b]: Rgb): string {
  return `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;
}

function isMissing(value: CellValue): value is null | undefined | '' {
  return value === null || value === undefined || value === '' ||
    (typeof value === 'number' && Number.isNaN(value));
}

/** Colour at t in [0, 1] of a gradient given by evenly spaced stops. */
export function sampleGradient(stops: readonly Rgb[], t: number): Rgb {
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

function writeRgb(out: Uint8Array, i: number, [r, g, b]: Rgb): void {
  out[i * 4] = r;
  out[i * 4 + 1] = g;
  out[i * 4 + 2] = b;
  out[i * 4 + 3] = 255;
}

/** One colour for every point. */
export function uniformColors(n: number, color: Rgb = DEFAULT_POINT_COLOR): Uint8Array {
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) writeRgb(out, i, color);
  return out;
}

/**
 * Colour by category. The most frequent category gets the first palette colour (ties: the
 * first seen), as in TensorBoard, so the big classes get the most distinct colours.
 */
export function colorByCategory(values: ArrayLike<CellValue>): ColorMapping {
  const counts = new Map<string, number>();
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v)) {
      missing++;
      continue;
    }
    const key = String(v);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // Map keeps insertion order and Array.sort is stable: ties stay in order of appearance.
  const entries: CategoryEntry[] = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([label, count], k) => ({
      label,
      count,
      color: CATEGORICAL_PALETTE[k % CATEGORICAL_PALETTE.length]!,
    }));
  const colorOf = new Map(entries.map((e) => [e.label, e.color]));
  const colors = new Uint8Array(values.length * 4);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    writeRgb(colors, i, isMissing(v) ? MISSING_COLOR : colorOf.get(String(v))!);
  }
  return { colors, legend: { kind: 'categorical', entries, missing } };
}

/**
 * colorByCategory for a column held as codes into its values (-1 missing), the values in order
 * of first appearance: the same colours and legend, without a string per row.
 */
export function colorByCodes(codes: Int32Array, categories: readonly string[]): ColorMapping {
  const counts = new Float64Array(categories.length);
  let missing = 0;
  for (const code of codes) {
    if (code < 0) missing++;
    else counts[code]!++;
  }
  // Stable: ties keep the order of first appearance, as in colorByCategory.
  const order = categories.map((_, code) => code).filter((code) => counts[code]! > 0);
  order.sort((a, b) => counts[b]! - counts[a]!);
  const palette = new Uint8Array(categories.length * 3);
  const entries: CategoryEntry[] = order.map((code, k) => {
    const color = CATEGORICAL_PALETTE[k % CATEGORICAL_PALETTE.length]!;
    palette.set(color, code * 3);
    return { label: categories[code]!, count: counts[code]!, color };
  });
  const colors = new Uint8Array(codes.length * 4);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    if (code < 0) writeRgb(colors, i, MISSING_COLOR);
    else {
      colors[i * 4] = palette[code * 3]!;
      colors[i * 4 + 1] = palette[code * 3 + 1]!;
      colors[i * 4 + 2] = palette[code * 3 + 2]!;
      colors[i * 4 + 3] = 255;
    }
  }
  return { colors, legend: { kind: 'categorical', entries, missing } };
}

/** Colour numbers on viridis from their minimum to their maximum; NaN/null is missing. */
export function colorByNumber(values: ArrayLike<CellValue>): ColorMapping {
  let min = Infinity;
  let max = -Infinity;
  let missing = 0;
  const numbers = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const x = isMissing(v) ? NaN : Number(v);
    numbers[i] = x;
    if (Number.isFinite(x)) {
      if (x < min) min = x;
      if (x > max) max = x;
    } else {
      missing++;
    }
  }
  const span = max - min;
  const colors = new Uint8Array(values.length * 4);
  for (let i = 0; i < values.length; i++) {
    const x = numbers[i]!;
    if (!Number.isFinite(x)) writeRgb(colors, i, MISSING_COLOR);
    // A constant column sits mid-gradient rather than at its dark end.
    else writeRgb(colors, i, sampleGradient(VIRIDIS_STOPS, span > 0 ? (x - min) / span : 0.5));
  }
  if (missing === values.length) {
    min = max = NaN;
  }
  return { colors, legend: { kind: 'numeric', min, max, stops: VIRIDIS_STOPS, missing } };
}

/**
 * Colour by a column: numeric columns get the gradient unless `categorical` is forced
 * (TensorBoard's override for integer class ids, say).
 */
export function colorByColumn(
  values: ArrayLike<CellValue>,
  kind: 'numeric' | 'categorical',
  { categorical = false }: { categorical?: boolean } = {},
): ColorMapping {
  return kind === 'numeric' && !categorical ? colorByNumber(values) : colorByCategory(values);
}
