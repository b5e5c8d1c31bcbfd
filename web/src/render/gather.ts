// Data of the few highlighted, labelled and linked points, gathered from the full layout. Pure
// functions: the renderer calls them when the layout, the colours, the selection or the hovered
// point change — never per camera move (during a layout change, once for each end).

import type { HighlightData, LabelData, SequenceData } from './plot_layers';

/** The layout as the renderer holds it: normalised N × 3 positions and the visibility mask. */
export interface Layout {
  positions: Float32Array;
  visible: Uint8Array | null;
}

/** Is point i drawn: not hidden by the mask and with finite coordinates? */
export function isShown({ positions, visible }: Layout, i: number): boolean {
  return (!visible || visible[i] !== 0) && !Number.isNaN(positions[i * 3]!);
}

export interface HighlightStyle {
  /** N × 4 RGBA of all points: a highlighted point keeps its colour, fully opaque. */
  colors: Uint8Array;
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
  const shown = items.filter(([i]) => isShown(layout, i));
  const data: HighlightData = {
    length: shown.length,
    positions: new Float64Array(shown.length * 3),
    fill: new Uint8Array(shown.length * 4),
    line: new Uint8Array(shown.length * 4),
    radius: new Float32Array(shown.length),
  };
  shown.forEach(([i, kind], k) => {
    data.positions.set(layout.positions.subarray(i * 3, i * 3 + 3), k * 3);
    data.fill.set(style.colors.subarray(i * 4, i * 4 + 3), k * 4);
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
  const p = layout.positions;
  const items: LabelData['items'] = [];
  indices.forEach((i, k) => {
    if (isShown(layout, i)) {
      items.push({ position: [p[i * 3]!, p[i * 3 + 1]!, p[i * 3 + 2]!], text: texts[k]! });
    }
  });
  return { items };
}

/** Line segments of the sequence pairs [from, to, ...] whose both ends are shown. */
export function gatherSequences(layout: Layout, pairs: Int32Array): SequenceData {
  const kept: number[] = [];
  for (let k = 0; k < pairs.length; k += 2) {
    if (isShown(layout, pairs[k]!) && isShown(layout, pairs[k + 1]!)) kept.push(k);
  }
  const source = new Float64Array(kept.length * 3);
  const target = new Float64Array(kept.length * 3);
  kept.forEach((k, j) => {
    const a = pairs[k]! * 3;
    const b = pairs[k + 1]! * 3;
    source.set(layout.positions.subarray(a, a + 3), j * 3);
    target.set(layout.positions.subarray(b, b + 3), j * 3);
  });
  return { length: kept.length, source, target };
}
