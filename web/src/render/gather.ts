// Data of the few highlighted, labelled and linked points, gathered from the layout. Pure
// functions: the renderer calls them when the layout, the colours, the selection or the hovered
// point change — never per camera move (during a layout change, once for each end).

import { DEFAULT_POINT_COLOR } from './colors';
import type { HighlightData, LabelData, SequenceData } from './plot_layers';

/** Where the points are drawn: the normalised position of row i, or null when it is not drawn. */
export interface Layout {
  at(i: number): Float32Array | null;
}

/** A whole layout: normalised N × 3 positions and the visibility mask. */
export function arrayLayout(positions: Float32Array, visible: Uint8Array | null): Layout {
  return {
    at: (i) =>
      (!visible || visible[i] !== 0) && !Number.isNaN(positions[i * 3]!) ? positions.subarray(i * 3, i * 3 + 3) : null,
  };
}

/** Some rows of a layout too big for the page (level of detail): the rows whose positions it has. */
export function sparseLayout(positions: ReadonlyMap<number, Float32Array>, visible: Uint8Array | null): Layout {
  return { at: (i) => ((!visible || visible[i] !== 0) && positions.get(i)) || null };
}

/** Is point i drawn: known, not hidden by the mask and with finite coordinates? */
export function isShown(layout: Layout, i: number): boolean {
  return layout.at(i) !== null;
}

export interface HighlightStyle {
  /** N × 4 RGBA of all points (null: the default colour): a highlighted point keeps its colour,
   * fully opaque. */
  colors: Uint8Array | null;
  /** Outline of neighbours, and of the selected and hovered points. */
  outline: readonly number[];
  accent: readonly number[];
}

/**
 * Rings of the neighbours, the selection and the hovered point, in that drawing order (the
 * hovered on top). A selected point that is also a neighbour is drawn once, as selected.
 */
export function gatherHighlight(
  layout: Layout,
  selected: Int32Array,
  neighbors: Int32Array,
  hovered: number | null,
  style: HighlightStyle,
): HighlightData {
  const selectedSet = new Set(selected);
  const items: [number, 'neighbor' | 'selected' | 'hovered'][] = [];
  for (const i of neighbors) if (!selectedSet.has(i)) items.push([i, 'neighbor']);
  for (const i of selected) items.push([i, 'selected']);
  if (hovered !== null) items.push([hovered, 'hovered']);
  const shown = items.flatMap(([i, kind]) => {
    const at = layout.at(i);
    return at ? [{ i, kind, at }] : [];
  });
  const data: HighlightData = {
    length: shown.length,
    positions: new Float64Array(shown.length * 3),
    fill: new Uint8Array(shown.length * 4),
    line: new Uint8Array(shown.length * 4),
    radius: new Float32Array(shown.length),
  };
  shown.forEach(({ i, kind, at }, k) => {
    data.positions.set(at, k * 3);
    data.fill.set(style.colors ? style.colors.subarray(i * 4, i * 4 + 3) : DEFAULT_POINT_COLOR, k * 4);
    data.fill[k * 4 + 3] = 255;
    data.line.set(kind === 'neighbor' ? style.outline : style.accent, k * 4);
    data.radius[k] = kind === 'neighbor' ? 0.8 : kind === 'selected' ? 1 : 1.25;
  });
  return data;
}

/** Label items of the shown points among `indices`, in the given (priority) order. */
export function gatherLabels(
  layout: Layout,
  indices: Int32Array,
  texts: readonly string[],
): LabelData {
  const items: LabelData['items'] = [];
  indices.forEach((i, k) => {
    const at = layout.at(i);
    if (at) items.push({ position: [at[0]!, at[1]!, at[2]!], text: texts[k]! });
  });
  return { items };
}

/** Line segments of the sequence pairs [from, to, ...] whose both ends are shown. */
export function gatherSequences(layout: Layout, pairs: Int32Array): SequenceData {
  const kept: [Float32Array, Float32Array][] = [];
  for (let k = 0; k < pairs.length; k += 2) {
    const a = layout.at(pairs[k]!);
    const b = layout.at(pairs[k + 1]!);
    if (a && b) kept.push([a, b]);
  }
  const source = new Float64Array(kept.length * 3);
  const target = new Float64Array(kept.length * 3);
  kept.forEach(([a, b], j) => {
    source.set(a, j * 3);
    target.set(b, j * 3);
  });
  return { length: kept.length, source, target };
}
