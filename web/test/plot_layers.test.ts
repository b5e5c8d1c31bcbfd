import { describe, expect, it } from 'vitest';

import { buildLayers, sameLayers } from '../src/render/plot_layers';
import type { HighlightData, LayerInput } from '../src/render/plot_layers';
import type { PointsData } from '../src/render/points_layer';
import { THEMES } from '../src/render/theme';

const points: PointsData = {
  length: 2,
  attributes: {
    getPosition: { value: new Float32Array(6), size: 3 },
    getColor: { value: new Uint8Array(8), size: 4, normalized: true },
  },
};
const noHighlight: HighlightData = {
  length: 0,
  positions: new Float64Array(0),
  fill: new Uint8Array(0),
  line: new Uint8Array(0),
  radius: new Float32Array(0),
};
const ring: HighlightData = {
  length: 1,
  positions: new Float64Array([0.5, 0.5, 0]),
  fill: new Uint8Array([255, 0, 0, 255]),
  line: new Uint8Array([0, 0, 0, 255]),
  radius: new Float32Array([1]),
};

function input(changes: Partial<LayerInput> = {}): LayerInput {
  return {
    points: [{ id: 'points', data: points }],
    progress: 1,
    pointSize: 4,
    pointSizeRange: [1, 64],
    opacity: 0.8,
    sprite: null,
    coloured: false,
    atlas: null,
    hovered: null,
    hoveredPosition: null,
    highlight: noHighlight,
    labels: { items: [] },
    labelSize: 12,
    sequences: {
      length: 1,
      source: new Float64Array([0, 0, 0]),
      target: new Float64Array([1, 1, 0]),
    },
    theme: THEMES.light,
    warm: false,
    ...changes,
  };
}

interface RingLayer {
  props: { data: { length: number; attributes: Record<'getFillColor' | 'getLineColor', { value: Uint8Array }> } };
}

const ids = (layers: { id: string }[]): string[] => layers.map((layer) => layer.id);

describe('buildLayers', () => {
  it('puts the points (and the lines under them) apart from the rings and labels over them', () => {
    const layers = buildLayers(input({ highlight: ring, labels: { items: [{ position: [0.5, 0.5, 0], text: 'a' }] } }));
    expect(ids(layers.points)).toEqual(['sequences', 'points']);
    expect(ids(layers.overlay)).toEqual(['highlight', 'labels']);
    // Nothing highlighted or labelled: no overlay layers.
    expect(ids(buildLayers(input()).overlay)).toEqual([]);
  });

  it('keeps the lines data object from one build to the next (deck.gl would redraw the points)', () => {
    const same = input();
    const data = (layers: ReturnType<typeof buildLayers>): unknown => layers.points[0]!.props.data;
    expect(data(buildLayers(same))).toBe(data(buildLayers({ ...same, hovered: 1 })));
  });

  it('draws an invisible ring and label when warm and nothing is shown, and the real ones otherwise', () => {
    const warm = buildLayers(input({ warm: true }));
    expect(ids(warm.overlay)).toEqual(['highlight', 'labels']);
    const [highlight, labels] = warm.overlay as unknown as [RingLayer, { props: Record<string, unknown> }];
    expect(highlight.props.data.length).toBe(1);
    expect(Array.from(highlight.props.data.attributes.getFillColor.value)).toEqual([0, 0, 0, 0]);
    expect(Array.from(highlight.props.data.attributes.getLineColor.value)).toEqual([0, 0, 0, 0]);
    expect(labels.props.getColor).toEqual([0, 0, 0, 0]);
    expect(labels.props.outlineColor).toEqual([0, 0, 0, 0]);
    const shown = buildLayers(input({ warm: true, highlight: ring, labels: { items: [{ position: [0, 0, 0], text: 'b' }] } }));
    const [realRing, realLabels] = shown.overlay as unknown as [RingLayer, { props: Record<string, unknown> }];
    expect(realRing.props.data.attributes.getFillColor.value).toBe(ring.fill);
    expect(realLabels.props.getColor).toEqual(THEMES.light.label);
  });
});

describe('sameLayers', () => {
  it('holds layers built from the same input the same, and not when a prop or the list changes', () => {
    const same = input({ highlight: ring });
    const a = buildLayers(same);
    const b = buildLayers({ ...same, hovered: 3 });
    expect(a.points[1]).not.toBe(b.points[1]);
    expect(sameLayers(a.points, b.points)).toBe(true);
    expect(sameLayers(a.overlay, buildLayers({ ...same, highlight: { ...ring } }).overlay)).toBe(false);
    expect(sameLayers(a.points, buildLayers({ ...same, pointSize: 5 }).points)).toBe(false);
    expect(sameLayers(a.points, buildLayers({ ...same, sequences: null }).points)).toBe(false);
    expect(sameLayers(a.overlay, buildLayers({ ...same, highlight: noHighlight }).overlay)).toBe(false);
  });
});
