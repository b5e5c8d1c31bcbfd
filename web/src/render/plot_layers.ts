// The deck.gl layers of the plot, from the renderer's state. Built on every change (deck.gl
// diffs them); the typed arrays inside keep their identity unless their content changed, so a
// camera move uploads nothing.
//
// Two sets, drawn by two decks on two canvases: the points (and the sequence lines under them),
// and the overlay over them (the rows of a partial layout given by position, highlight rings,
// the hovered thumbnail, labels). A hover or a selection then redraws the overlay alone, not
// every point: in software WebGL a frame of half a million points takes about 0.4 s (issue 12).

import type { Layer } from '@deck.gl/core';
import { LineLayer, ScatterplotLayer, TextLayer } from '@deck.gl/layers';

import { DEFAULT_SEQUENCE_WIDTH } from '../constants';
import { PointsLayer } from './points_layer';
import type { PointsData, SpriteSheet } from './points_layer';
import type { PlotTheme } from './theme';

// deck.gl's ScatterplotLayer and LineLayer keep positions in 64-bit attributes and, in 9.4,
// read a Float32Array given to them with the 64-bit stride once the data length changes
// (points land at wrong places). Float64Array takes their regular path; these arrays are small.

/** Highlighted points, in drawing order (neighbours, then selected, then hovered on top). */
export interface HighlightData {
  length: number;
  positions: Float64Array;
  fill: Uint8Array;
  line: Uint8Array;
  /** Radius relative to the highlight radius. */
  radius: Float32Array;
}

export interface LabelItem {
  position: [number, number, number];
  text: string;
}

export const LABEL_FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
export const LABEL_FONT_WEIGHT = 600;

/** Radius of the ring around a highlighted dot or thumbnail, in CSS px. */
export function ringRadius(pointSize: number, sprites: boolean): number {
  return sprites ? pointSize * 0.62 : pointSize / 2 + 3;
}

/** Gap from a point's centre to the bottom of its label, in CSS px. */
export function labelOffset(pointSize: number, sprites: boolean): number {
  return ringRadius(pointSize, sprites) + 3;
}

export interface LabelData {
  items: LabelItem[];
}

export interface SequenceData {
  length: number;
  source: Float64Array;
  target: Float64Array;
}

export interface LayerInput {
  /** The points: one layer for a whole layout, one per set drawn of a partial one. */
  points: { id: string; data: PointsData }[];
  /**
   * Rows of a partial layout given by position (the selection, its neighbours, labelled or
   * isolated rows), drawn as points on the overlay: they change with every click, and as a
   * layer of the points they made every point redraw (issue 12). Null: none.
   */
  known: PointsData | null;
  /** The layout is drawn in part: a warm overlay links the program of `known` too. */
  partial: boolean;
  /** Eased progress of a layout change (1 when nothing moves). */
  progress: number;
  /** Dot diameter (or thumbnail edge in sprite mode), CSS px, at the current zoom. */
  pointSize: number;
  pointSizeRange: [number, number];
  opacity: number;
  sprite: SpriteSheet | null;
  /** Whether points are coloured by a column (thumbnails then take their point's colour). */
  coloured: boolean;
  /**
   * The atlas last drawn, kept while sprites are off: deck.gl fails to turn an image prop
   * back into null ("matching of PointsLayer"), so the texture stays and `sprite` decides.
   */
  atlas: SpriteSheet['image'] | null;
  hovered: number | null;
  /** Where the hovered point is drawn now (it may be moving). */
  hoveredPosition: Float32Array | null;
  highlight: HighlightData;
  labels: LabelData;
  labelSize: number;
  sequences: SequenceData | null;
  theme: PlotTheme;
  /**
   * Keep the ring and label layers even when empty, drawing an invisible ring and label: their
   * programs are then linked before the first hover needs them, which in software WebGL takes
   * hundreds of milliseconds (issue 12).
   */
  warm: boolean;
}

/** What a warm overlay draws when nothing is highlighted: one ring, fully transparent. */
const INVISIBLE_RING: HighlightData = {
  length: 1,
  positions: new Float64Array(3),
  fill: new Uint8Array(4),
  line: new Uint8Array(4),
  radius: new Float32Array([0]),
};
const INVISIBLE_LABEL: LabelData = { items: [{ position: [0, 0, 0], text: '0' }] };
/** What a warm overlay of a partial layout draws when no row is given by position: one point,
 * masked out (clipped before it is rasterised). */
const INVISIBLE_POINT: PointsData = {
  length: 1,
  attributes: {
    getPosition: { value: new Float32Array(3), size: 3 },
    getColor: { value: new Uint8Array(4), size: 4, normalized: true },
    getVisible: { value: new Uint8Array(1), size: 1, normalized: true },
  },
};
const TRANSPARENT: [number, number, number, number] = [0, 0, 0, 0];

// Labels, rings and lines are drawn over everything: no depth test among them or with points.
const OVERLAY_PARAMETERS = { depthWriteEnabled: false, depthCompare: 'always' } as const;

export interface PlotLayers {
  /** The sequence lines and the points. */
  points: Layer[];
  /** Highlight rings, the hovered thumbnail, labels: drawn over the points. */
  overlay: Layer[];
}

/**
 * `make(key)`, made once per key object: deck.gl data must keep its identity while its source
 * does, or deck.gl uploads it again and the deck redraws (every point, for the lines).
 */
function memoized<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) made.set(key, (value = make(key)));
    return value;
  };
}

/** The lines' deck.gl data, one object per sequence data. */
const sequenceLines = memoized((sequences: SequenceData) => ({
  length: sequences.length,
  attributes: {
    getSourcePosition: { value: sequences.source, size: 3 },
    getTargetPosition: { value: sequences.target, size: 3 },
  },
}));

/** The rings' deck.gl data, one object per highlight data. */
const rings = memoized((highlight: HighlightData) => ({
  length: highlight.length,
  attributes: {
    getPosition: { value: highlight.positions, size: 3 },
    getFillColor: { value: highlight.fill, size: 4, normalized: true },
    getLineColor: { value: highlight.line, size: 4, normalized: true },
    getRadius: { value: highlight.radius, size: 1 },
  },
}));

// The labels' accessors and font, the same functions and object in every build: new ones made
// the overlay's layer list differ on every frame, and its deck redraw on every pan frame.
const labelPosition = (d: LabelItem): [number, number, number] => d.position;
const labelText = (d: LabelItem): string => d.text;
const LABEL_FONT_SETTINGS = { sdf: true, fontSize: 64, buffer: 10, radius: 16 };

export function buildLayers(input: LayerInput): PlotLayers {
  const { points, theme, sprite } = input;
  if (points.length === 0) return { points: [], overlay: [] };
  const layers: Layer[] = [];
  const overlay: Layer[] = [];
  const sprites = sprite !== null;

  if (input.sequences && input.sequences.length > 0) {
    const { sequences } = input;
    layers.push(
      new LineLayer({
        id: 'sequences',
        data: sequenceLines(sequences),
        getColor: theme.sequence,
        getWidth: DEFAULT_SEQUENCE_WIDTH,
        widthUnits: 'pixels',
        parameters: OVERLAY_PARAMETERS,
      }),
    );
  }

  for (const { id, data } of points) layers.push(pointsLayer(id, data, input));

  // Over the points they would have been drawn after, and under the rings. A partial layout
  // has no thumbnails (its rows are not indexed from 0), so the layer never needs the atlas.
  const known = input.known ?? (input.partial && input.warm ? INVISIBLE_POINT : null);
  if (known) overlay.push(pointsLayer('known', known, { ...input, sprite: null, atlas: null }));

  const highlight = input.highlight.length === 0 && input.warm ? INVISIBLE_RING : input.highlight;
  if (highlight.length > 0) {
    overlay.push(
      new ScatterplotLayer({
        id: 'highlight',
        data: rings(highlight),
        radiusUnits: 'pixels',
        radiusScale: ringRadius(input.pointSize, sprites),
        lineWidthUnits: 'pixels',
        getLineWidth: 1.75,
        stroked: true,
        filled: !sprites,
        billboard: true,
        parameters: OVERLAY_PARAMETERS,
      }),
    );
  }

  if (sprite && input.hovered !== null && input.hoveredPosition) {
    // The hovered thumbnail, brought to the front and enlarged (TensorBoard leaves it buried).
    overlay.push(
      new PointsLayer({
        id: 'hovered-sprite',
        data: {
          length: 1,
          attributes: {
            getPosition: { value: input.hoveredPosition, size: 3 },
            getColor: { value: new Uint8Array([255, 255, 255, 255]), size: 4, normalized: true },
          },
        },
        indexOffset: input.hovered,
        // Three times the thumbnail, but no blurrier than twice the atlas resolution.
        pointSize: Math.max(
          input.pointSize * 1.5,
          Math.min(input.pointSize * 3, 2 * Math.max(sprite.cellWidth, sprite.cellHeight)),
        ),
        pointSizeRange: input.pointSizeRange,
        sprite,
        spriteAtlas: sprite.image,
        parameters: OVERLAY_PARAMETERS,
      }),
    );
  }

  const invisible = input.labels.items.length === 0 && input.warm;
  const labels = invisible ? INVISIBLE_LABEL : input.labels;
  if (labels.items.length > 0) {
    overlay.push(
      new TextLayer<LabelItem>({
        id: 'labels',
        data: labels.items,
        getPosition: labelPosition,
        getText: labelText,
        getSize: input.labelSize,
        sizeUnits: 'pixels',
        getColor: invisible ? TRANSPARENT : theme.label,
        getTextAnchor: 'middle',
        getAlignmentBaseline: 'bottom',
        getPixelOffset: [0, -labelOffset(input.pointSize, sprites)],
        fontFamily: LABEL_FONT_FAMILY,
        fontWeight: LABEL_FONT_WEIGHT,
        // Signed distance fields give crisp text at any size and the halo (outline) for free.
        fontSettings: LABEL_FONT_SETTINGS,
        outlineWidth: 6,
        outlineColor: invisible ? TRANSPARENT : theme.halo,
        characterSet: 'auto',
        parameters: OVERLAY_PARAMETERS,
      }),
    );
  }
  return { points: layers, overlay };
}

/** A layer of points drawn as the plot draws them (its size, opacity and thumbnails). */
function pointsLayer(id: string, data: PointsData, input: LayerInput): PointsLayer {
  const { sprite } = input;
  return new PointsLayer({
    id,
    data,
    // Hover and click are picked on the CPU (point_picking.ts): a GPU picking pass would
    // draw every point again.
    pickable: false,
    pointSize: input.pointSize,
    pointSizeRange: input.pointSizeRange,
    // Thumbnails are pictures: never see-through.
    opacity: sprite ? 1 : input.opacity,
    sprite,
    spriteAtlas: input.atlas,
    tintSprites: input.coloured,
    // Translucent dots are blended in drawing order; a depth test would let the first dot
    // drawn hide those behind it, and its soft rim would cut holes into them.
    parameters: OVERLAY_PARAMETERS,
    progress: input.progress,
  });
}

/**
 * Whether two layer lists draw the same: the same layers with the same props, compared
 * shallowly (plain arrays of numbers, such as a pixel offset, by value). deck.gl redraws
 * whenever it is given a new list, even an equal one, and a redraw of the points on every
 * hover is what the second deck is there to avoid.
 */
export function sameLayers(a: readonly Layer[], b: readonly Layer[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((layer, k) => {
    const other = b[k]!;
    if (layer.id !== other.id || layer.constructor !== other.constructor) return false;
    const props = layer.props as unknown as Record<string, unknown>;
    const otherProps = other.props as unknown as Record<string, unknown>;
    // Inherited keys too: deck.gl keeps `data` and image props behind getters of the props'
    // prototype; the defaults are the same values on both.
    for (const key in props) if (props[key] !== otherProps[key] && !sameNumbers(props[key], otherProps[key])) return false;
    for (const key in otherProps) if (!(key in props)) return false;
    return true;
  });
}

/** Two plain arrays of the same numbers (typed arrays are data: their identity counts). */
function sameNumbers(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((value, k) => typeof value === 'number' && value === b[k]);
}
