// The few points the plot marks over the others, and their drawn data: the highlighted ones
// (selection, neighbours, the hovered point), the labelled ones and the sequence lines. Their
// data is gathered when the rows or the layout change (gather.ts), for the layout's end and,
// while a layout change runs, for its start: a frame mixes the two at its progress.

import type { Viewport } from '@deck.gl/core';

import { DEFAULT_LABEL_SIZE } from '../constants';
import { gatherHighlight, gatherLabels, gatherSequences } from './gather';
import type { HighlightStyle, Layout } from './gather';
import { declutter, measureLabel } from './label_layout';
import { lerpArray } from './motion';
import { LABEL_FONT_FAMILY, LABEL_FONT_WEIGHT } from './plot_layers';
import type { HighlightData, LabelData, SequenceData } from './plot_layers';

/** Where the points are at the end of a layout change and, while one runs, at its start. */
export interface Layouts {
  to: Layout;
  from: Layout | null;
}

/** Gathered data at the end of a layout change and, while one runs, at its start. */
interface Gathered<T> {
  to: T;
  from: T | null;
}

/** What a frame draws of the marked points, at its progress of a layout change. */
export interface Marks {
  highlight: HighlightData;
  labels: LabelData;
  sequences: SequenceData | null;
}

const EMPTY = new Int32Array(0);
const EMPTY_HIGHLIGHT: HighlightData = {
  length: 0,
  positions: new Float64Array(0),
  fill: new Uint8Array(0),
  line: new Uint8Array(0),
  radius: new Float32Array(0),
};

export class Annotations {
  selected: Int32Array = EMPTY;
  neighbors: Int32Array = EMPTY;
  hovered: number | null = null;
  labelIndices: Int32Array = EMPTY;
  labelTexts: readonly string[] = [];
  labelSize = DEFAULT_LABEL_SIZE;
  sequencePairs: Int32Array | null = null;
  private highlight: Gathered<HighlightData> = { to: EMPTY_HIGHLIGHT, from: null };
  private labels: Gathered<LabelData> = { to: { items: [] }, from: null };
  private sequences: Gathered<SequenceData> | null = null;
  /** The decluttered labels last drawn: a new array only when the set shown changes. */
  private shownLabels: { source: LabelData; key: string; data: LabelData } | null = null;

  /** Per-row state of another data set no longer applies. */
  reset(): void {
    this.selected = this.neighbors = this.labelIndices = EMPTY;
    this.labelTexts = [];
    this.hovered = null;
    this.sequencePairs = null;
  }

  /** The rows whose positions a partial layout must find (the hovered one is found by its pick). */
  wanted(): Set<number> {
    return new Set<number>([...this.selected, ...this.neighbors, ...this.labelIndices]);
  }

  gatherHighlight(layouts: Layouts, style: HighlightStyle): void {
    this.highlight = gathered(layouts, (layout) => gatherHighlight(layout, this.selected, this.neighbors, this.hovered, style));
  }

  gatherLabels(layouts: Layouts): void {
    this.labels = gathered(layouts, (layout) => gatherLabels(layout, this.labelIndices, this.labelTexts));
  }

  gatherSequences(layouts: Layouts): void {
    const pairs = this.sequencePairs;
    this.sequences = pairs && gathered(layouts, (layout) => gatherSequences(layout, pairs));
  }

  /** The marks drawn at this progress of a layout change (1: none runs). */
  at(progress: number): Marks {
    const highlight = mixGathered(this.highlight, progress, (from, to) => ({
      ...to,
      positions: lerpArray(from.positions, to.positions, progress),
    }));
    const labels = mixGathered(this.labels, progress, (from, to) => ({
      items: to.items.map((item, k) => {
        const [x, y, z] = lerpArray(from.items[k]!.position, Float64Array.from(item.position), progress);
        return { ...item, position: [x!, y!, z!] as [number, number, number] };
      }),
    }));
    const sequences =
      this.sequences &&
      mixGathered(this.sequences, progress, (from, to) => ({
        length: to.length,
        source: lerpArray(from.source, to.source, progress),
        target: lerpArray(from.target, to.target, progress),
      }));
    return { highlight, labels, sequences };
  }

  /** The labels that do not overlap a more important one in the current viewport; `offset`:
   * from a point's centre to the bottom of its label, CSS px. */
  declutteredLabels(source: LabelData, currentViewport: () => Viewport | null, offset: number): LabelData {
    if (source.items.length < 2) return source;
    const viewport = currentViewport();
    if (!viewport) return source;
    const font = `${LABEL_FONT_WEIGHT} ${this.labelSize}px ${LABEL_FONT_FAMILY}`;
    const lineHeight = this.labelSize * 1.2;
    const kept = declutter(
      source.items.map(({ position, text }) => {
        const [x = NaN, y = NaN] = viewport.project(position);
        const textWidth = measureLabel(text, font);
        return { x: x - textWidth / 2, y: y - offset - lineHeight, width: textWidth, height: lineHeight };
      }),
    );
    const key = kept.join(',');
    if (this.shownLabels?.source !== source || this.shownLabels.key !== key) {
      const data = { items: kept.map((i) => source.items[i]!) };
      this.shownLabels = { source, key, data };
    }
    return this.shownLabels.data;
  }
}

/** Gather for the layout's end and, during a change, for its start as well. */
function gathered<T>({ to, from }: Layouts, gather: (layout: Layout) => T): Gathered<T> {
  return { to: gather(to), from: from && gather(from) };
}

/**
 * The gathered data drawn at a progress of a layout change: the end data, with its positions
 * mixed from the start data when both hold the same items.
 */
function mixGathered<T extends { length: number } | { items: unknown[] }>(
  gathered: Gathered<T>,
  progress: number,
  mix: (from: T, to: T) => T,
): T {
  const { from, to } = gathered;
  const size = (data: T): number => ('items' in data ? data.items.length : data.length);
  // A point that had no position at the start drops out of `from`: its items no longer pair up.
  return from && progress < 1 && size(from) === size(to) ? mix(from, to) : to;
}
