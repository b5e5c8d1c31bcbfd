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
    known: null,
    partial: false,
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

describe('rows given by position (partial layouts)', () => {
  const known: PointsData = {
    length: 1,
    attributes: {
      getPosition: { value: new Float32Array([0.25, 0.25, 0]), size: 3 },
      getColor: { value: new Uint8Array([255, 0, 0, 255]), size: 4, normalized: true },
    },
  };
  const tiles = input({ points: [{ id: 'tile-0', data: points }], partial: true, sequences: null });

  it('draws them on the overlay, under the rings, as the points are drawn', () => {
    const layers = buildLayers({ ...tiles, known, highlight: ring });
    expect(ids(layers.points)).toEqual(['tile-0']);
    expect(ids(layers.overlay)).toEqual(['known', 'highlight']);
    const [tile, over] = [layers.points[0]!, layers.overlay[0]!] as unknown as { props: Record<string, unknown> }[];
    expect(over!.props.data).toBe(known);
    for (const prop of ['pointSize', 'opacity', 'pointSizeRange', 'progress']) expect(over!.props[prop]).toEqual(tile!.props[prop]);
  });

  it('leaves the points layers the same when they come and go (no redraw of every point)', () => {
    const before = buildLayers({ ...tiles, highlight: noHighlight });
    const after = buildLayers({ ...tiles, known, highlight: ring });
    expect(sameLayers(before.points, after.points)).toBe(true);
    expect(sameLayers(before.overlay, after.overlay)).toBe(false);
    expect(sameLayers(after.points, buildLayers({ ...tiles }).points)).toBe(true);
  });

  it('links their program on a warm overlay with one point masked out, in partial layouts only', () => {
    const warm = buildLayers({ ...tiles, warm: true });
    expect(ids(warm.overlay)).toEqual(['known', 'highlight', 'labels']);
    const data = (warm.overlay[0] as unknown as { props: { data: PointsData } }).props.data;
    expect(data.length).toBe(1);
    expect(Array.from(data.attributes.getVisible!.value)).toEqual([0]);
    expect(ids(buildLayers(input({ warm: true })).overlay)).toEqual(['highlight', 'labels']);
    // The real rows replace it, under the same id (one program, linked once).
    expect((buildLayers({ ...tiles, warm: true, known }).overlay[0] as unknown as { props: { data: unknown } }).props.data).toBe(known);
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

  it('holds the overlay built twice from the same input the same (its deck would redraw every frame)', () => {
    const labels = { items: [{ position: [0.5, 0.5, 0] as [number, number, number], text: 'a' }] };
    for (const same of [input({ warm: true }), input({ highlight: ring, labels }), input({ warm: true, partial: true })]) {
      expect(sameLayers(buildLayers(same).overlay, buildLayers(same).overlay)).toBe(true);
    }
    // A new label offset (the point size changed) is a change.
    expect(sameLayers(buildLayers(input({ labels })).overlay, buildLayers(input({ labels, pointSize: 6 })).overlay)).toBe(false);
  });
});
