// ScatterPlot: the GPU scatter plot of the projector, framework-agnostic.
//
// Everything per point travels as typed arrays straight into GPU buffers (no per-point JS
// objects); hover and click pick the point nearest the pointer on the CPU (point_picking.ts),
// and rectangle and lasso selection project the points once per gesture (selection_geometry.ts):
// deck.gl's GPU picking would draw every point again per pick, which software WebGL cannot
// afford at ten million points (issue 12).
//
// A layout too big for the page is drawn in part (`setPartial`): from its tiles, loaded as the
// view needs them (level_of_detail.ts, tile_set.ts), or as a sample of its rows while it still
// streams. Points are then named by their row in the whole layout everywhere (colours, masks,
// highlights, labels, hover, click); a drawn shape is sent to `onSelectShape` to be decided over
// every row (by the server).

import { Deck, OrbitView, OrthographicView } from '@deck.gl/core';
import type { OrbitViewState, OrthographicViewState, PickingInfo, Viewport } from '@deck.gl/core';

import {
  DEFAULT_LABEL_SIZE,
  DEFAULT_PICKING_RADIUS,
  DEFAULT_TRANSITION_MS,
  ERROR_ATTRIBUTE_LENGTH,
  ERROR_DESTROYED,
  ERROR_INDEX_RANGE,
  ERROR_LABELS_LENGTH,
} from '../constants';
import {
  applyNormalization,
  computeBounds,
  countPoints,
  normalizationOf,
  normalizeBounds,
  normalizePositions,
} from './bounds';
import type { Bounds, Dims, Normalization, Vec3 } from './bounds';
import { FOVY, fitCamera, fromViewState, toViewState } from './camera';
import type { Camera } from './camera';
import { DEFAULT_POINT_COLOR, uniformColors } from './colors';
import { DENSITY_GRID, DensityBackdrop, densityGrid, densityImage } from './density_layer';
import { arrayLayout, gatherHighlight, gatherLabels, gatherSequences, sparseLayout } from './gather';
import type { Layout } from './gather';
import type { Box } from './level_of_detail';
import { declutter, measureLabel } from './label_layout';
import { easeInOutCubic, lerpArray, linear, motionProgress } from './motion';
import type { Motion } from './motion';
import { LABEL_FONT_FAMILY, LABEL_FONT_WEIGHT, buildLayers, labelOffset, sameLayers } from './plot_layers';
import type { HighlightData, LabelData, PlotLayers, SequenceData } from './plot_layers';
import type { PointsData, SpriteSheet } from './points_layer';
import {
  defaultOpacity,
  defaultPointSize,
  defaultSpriteSize,
  pointSizeAtZoom,
  spriteSizeAtZoom,
} from './point_style';
import { pickPoint } from './point_picking';
import type { PickablePoints } from './point_picking';
import { projectToScreen, selectInPolygon, selectInRect } from './selection_geometry';
import { SelectionOverlay, modifiersOf } from './selection_overlay';
import type { Modifiers, SelectionMode, SelectionShape } from './selection_overlay';
import { fitSpriteSheet } from './sprite_fit';
import { TileSet } from './tile_set';
import type { PointSet, TileSource } from './tile_set';
import { THEMES } from './theme';
import type { ThemeName } from './theme';
import { probeWebGL } from './webgl_support';
import type { GpuLimits } from './webgl_support';

export interface ScatterPlotOptions {
  theme?: ThemeName;
  /**
   * Called on pointer moves over the plot (once per frame at most) with the point under the
   * pointer; `at` is in CSS px relative to the plot.
   */
  onHover?: (index: number | null, at: { x: number; y: number } | null) => void;
  /** A click on a point, or on empty space (null). */
  onClick?: (index: number | null, modifiers: Modifiers) => void;
  /** A rectangle or lasso gesture ended: the indices inside it (hidden points excluded). */
  onSelect?: (indices: Int32Array, modifiers: Modifiers) => void;
  /**
   * A rectangle or lasso gesture ended on a layout drawn in part: the shape, and the matrix
   * from raw layout coordinates to its pixels, to decide over every row. Without it, the
   * points drawn are selected (`onSelect`).
   */
  onSelectShape?: (query: ShapeQuery, modifiers: Modifiers) => void;
  /** How many points are drawn, of how many, and the level of detail drawn (tiles only; it
   * changes as the view zooms). */
  onDetail?: (shown: number, total: number, level: number | null) => void;
  /** The camera moved: every frame of a drag, so throttle what it triggers (the URL, say). */
  onCameraChange?: (camera: Camera) => void;
  /** A GPU error after construction (lost context, shader failure). */
  onError?: (error: Error) => void;
}

export interface LayoutTransition {
  /** Animation length; default DEFAULT_TRANSITION_MS, 0 to jump. Never animates a new N. */
  durationMs?: number;
  /** 'ease' for a switch of projection; 'linear' for a stream of layouts (live t-SNE), whose
   * frames then join into one continuous motion when durationMs matches their interval. */
  easing?: 'ease' | 'linear';
}

/** A layout too big to draw whole: its tiles, or a sample of its rows (a layout streaming). */
export interface PartialLayout {
  /** Rows of the whole layout. */
  n: number;
  dims: Dims;
  /** Its smallest and largest finite coordinates per axis (default: the sample's). */
  low?: readonly number[];
  high?: readonly number[];
  tiles?: TileSource;
  /** Raw count × dims coordinates of some rows, and those rows. */
  sample?: { positions: Float32Array; rows: Int32Array };
}

/** A rectangle or lasso in CSS pixels, and the camera: raw coordinates to pixels. */
export interface ShapeQuery {
  /** 4 × 4, column-major. */
  matrix: number[];
  rectangle?: [number, number, number, number];
  polygon?: number[];
}

/** What is drawn of a partial layout. */
interface Partial {
  normalization: Normalization;
  tiles: TileSet | null;
  sample: PointSet | null;
}

/** The deck.gl data of a set of points, rebuilt when its count, colours or mask change. */
interface SetData {
  count: number;
  colors: Uint8Array | null;
  visible: Uint8Array | null;
  data: PointsData;
}

type ViewState = OrthographicViewState | OrbitViewState;
type PlotView = OrthographicView | OrbitView;

/** Gathered data at the end of a layout change and, while one runs, at its start. */
interface Gathered<T> {
  to: T;
  from: T | null;
}

const EMPTY = new Int32Array(0);
/** Drawn before the first layout: deck.gl links the points' program for it (70-150 ms in
 * software WebGL) while the layout is computed, not in the frame that first shows it. */
const NO_POINTS: PointsData = {
  length: 0,
  attributes: {
    getPosition: { value: new Float32Array(0), size: 3 },
    getColor: { value: new Uint8Array(0), size: 4, normalized: true },
  },
};
const EMPTY_HIGHLIGHT: HighlightData = {
  length: 0,
  positions: new Float64Array(0),
  fill: new Uint8Array(0),
  line: new Uint8Array(0),
  radius: new Float32Array(0),
};

export class ScatterPlot {
  private readonly deck: Deck<PlotView>;
  /** Draws the highlight rings, the hovered thumbnail and labels over the points, on a canvas
   * of its own: they change on every hover (plot_layers.ts). */
  private readonly overlayDeck: Deck<PlotView>;
  private readonly overlay: SelectionOverlay;
  private readonly backdrop: DensityBackdrop;
  private readonly limits: GpuLimits;
  private readonly ready: Promise<void>;
  private destroyed = false;
  /** Resolvers of `whenDrawn()`, settled by the next frame that draws the current points. */
  private drawWaiters: (() => void)[] = [];

  private n = 0;
  private dimsValue: Dims = 2;
  private positions: Float32Array = new Float32Array(0);
  private bounds: Bounds = { min: [0, 0, 0], max: [0, 0, 0], count: 0 };
  private radius = 1;
  private colors: Uint8Array | null = null;
  private defaultColors: Uint8Array = new Uint8Array(0);
  private sizes: Float32Array | null = null;
  private visible: Uint8Array | null = null;
  private selected: Int32Array = EMPTY;
  private neighbors: Int32Array = EMPTY;
  private hovered: number | null = null;
  private labelIndices: Int32Array = EMPTY;
  private densityOn = false;
  private labelTexts: readonly string[] = [];
  private labelSize = DEFAULT_LABEL_SIZE;
  private sprite: SpriteSheet | null = null;
  private atlas: SpriteSheet['image'] | null = null;
  private sequencePairs: Int32Array | null = null;
  private themeName: ThemeName;
  private pointSizeOverride: number | null = null;

  private viewState: ViewState = { target: [0, 0, 0], zoom: 0 };
  private fitZoom = 0;
  /** The layout change in progress, if any; `positions` holds its end. */
  private motion: Motion | null = null;
  private animationFrame: number | null = null;
  private pointsData: PointsData | null = null;
  private highlight: Gathered<HighlightData> = { to: EMPTY_HIGHLIGHT, from: null };
  private labels: Gathered<LabelData> = { to: { items: [] }, from: null };
  private sequences: Gathered<SequenceData> | null = null;
  /** The decluttered labels last drawn: a new array only when the set shown changes. */
  private shownLabels: { source: LabelData; key: string; data: LabelData } | null = null;

  /** A layout drawn in part (tiles or a sample), or null when `positions` holds it all. */
  private partial: Partial | null = null;
  /** Positions (normalised) of rows the page gave (`setRowPositions`): drawn too. */
  private known: PointSet | null = null;
  /** Where highlighted and labelled rows of a partial layout are drawn, by row. */
  private rowPositions = new Map<number, Float32Array>();
  private setData = new Map<string, SetData>();
  /** The sets of points drawn in the last frame, by layer id. */
  private drawnSets = new Map<string, PointSet>();
  private shownCount = -1;
  private shownLevel: number | null = null;
  private tileUpdate: number | null = null;
  /** The layers each deck was last given: a deck is given a new list only when it differs. */
  private shownLayers: PlotLayers = { points: [], overlay: [] };
  /** The overlay draws its (invisible) ring and label layers: set once the points are drawn. */
  private overlayWarm: 'no' | 'scheduled' | 'yes' = 'no';
  /**
   * Draws into `container` (which it fills). Throws ERROR_WEBGL_UNAVAILABLE when the browser
   * has no WebGL 2.
   */
  constructor(
    private readonly container: HTMLDivElement,
    private readonly options: ScatterPlotOptions = {},
  ) {
    this.limits = probeWebGL();
    this.themeName = options.theme ?? 'light';
    if (getComputedStyle(container).position === 'static') container.style.position = 'relative';
    let resolveReady: () => void = () => undefined;
    let resolveOverlayReady: () => void = () => undefined;
    this.ready = Promise.all([
      new Promise<void>((resolve) => (resolveReady = resolve)),
      new Promise<void>((resolve) => (resolveOverlayReady = resolve)),
    ]).then(() => undefined);
    // Before the Deck: its view's clear colour depends on it, and its canvas goes under deck's.
    this.backdrop = new DensityBackdrop(container);
    this.deck = new Deck({
      parent: container,
      views: this.makeView(),
      viewState: this.viewState,
      layers: [],
      useDevicePixels: true,
      deviceProps: {
        webgl: {
          // Dots are anti-aliased in their shader; multisampling would only multiply fill cost.
          antialias: false,
          // luma.gl asks for a preserved buffer by default: a copy of every frame. toPNG()
          // draws and reads in one task instead.
          preserveDrawingBuffer: false,
        },
      },
      onViewStateChange: ({ viewState }) => this.setViewState(viewState),
      onHover: (info) => this.handleHover(info),
      // A click is reported when the button goes up: mjolnir would otherwise hold every click
      // for its double-click interval (300 ms) to rule out a double click (issue 12).
      eventRecognizerOptions: { click: { interval: 0 } },
      onClick: (info, event) => {
        // A double click (the controller zooms) has already been reported as its clicks.
        if (event.type === 'dblclick') return;
        this.options.onClick?.(this.picked(info)?.row ?? null, modifiersOf(event.srcEvent));
      },
      // No layer is pickable (deck.gl's isHovering stays false): the point under the pointer is
      // the one picked on the CPU.
      getCursor: ({ isDragging }) => (isDragging ? 'grabbing' : this.hovered !== null ? 'pointer' : 'grab'),
      onLoad: () => resolveReady(),
      // Placed from the viewport of the frame being drawn, so the two never disagree.
      onBeforeRender: () => {
        const [viewport] = this.deck.getViewports();
        if (viewport) this.backdrop.place((xy) => viewport.project(xy));
      },
      onAfterRender: () => {
        if (!this.pointsData && this.drawnSets.size === 0) return;
        if (this.overlayWarm === 'no') this.warmOverlay();
        if (this.drawWaiters.length > 0) {
          const waiters = this.drawWaiters;
          this.drawWaiters = [];
          for (const resolve of waiters) resolve();
        }
      },
      onError: (error) => this.options.onError?.(error),
    });
    // Over deck's canvas, under the selection overlay; the pointer goes through to deck's.
    const overlayCanvas = document.createElement('canvas');
    Object.assign(overlayCanvas.style, {
      position: 'absolute',
      inset: '0',
      width: '100%',
      height: '100%',
      pointerEvents: 'none',
    });
    container.append(overlayCanvas);
    this.overlayDeck = new Deck({
      canvas: overlayCanvas,
      views: this.makeView(true),
      viewState: this.viewState,
      layers: [],
      useDevicePixels: true,
      deviceProps: { webgl: { antialias: false, preserveDrawingBuffer: false } },
      onLoad: () => resolveOverlayReady(),
      onError: (error) => this.options.onError?.(error),
    });
    this.overlay = new SelectionOverlay(container, (shape, modifiers) => this.select(shape, modifiers));
    this.applyTheme();
    this.render();
  }

  get pointCount(): number {
    return this.n;
  }

  get dims(): Dims {
    return this.dimsValue;
  }

  /** The layout is drawn in part (`setPartial`). */
  get isPartial(): boolean {
    return this.partial !== null;
  }

  /**
   * Show a layout: N × dims float32 coordinates, row-major. With the same N as before the points
   * move smoothly to their new places; a change of dims switches the 2D / 3D view and refits it.
   */
  setPoints(positions: Float32Array, dims: Dims, transition: LayoutTransition = {}, frame?: Bounds): void {
    this.assertAlive();
    const n = countPoints(positions, dims);
    const sameSet = n === this.n && n > 0;
    const switchView = !sameSet || dims !== this.dimsValue;
    const layout = normalizePositions(positions, dims, frame);
    const duration = sameSet ? (transition.durationMs ?? DEFAULT_TRANSITION_MS) : 0;
    const now = performance.now();
    const easing = transition.easing === 'linear' ? linear : easeInOutCubic;
    // Start from where the points are drawn now, mid-way through a change if one is running
    // (a t-SNE stream sends layouts faster than they finish animating).
    const from = (): Float32Array =>
      this.motion ? lerpArray(this.motion.from, this.positions, motionProgress(this.motion, now)) : this.positions;
    this.motion = duration > 0 && !this.partial ? { from: from(), start: now, duration, easing } : null;
    if (!sameSet) this.resetRows();
    this.leavePartial();
    if (this.defaultColors.length !== n * 4) this.defaultColors = uniformColors(n, DEFAULT_POINT_COLOR);
    this.n = n;
    this.dimsValue = dims;
    this.positions = layout.positions;
    this.bounds = layout.bounds;
    this.radius = layout.radius;
    this.fitZoom = this.fitCameraNow().zoom;
    this.updatePointsData();
    this.updateDensity();
    this.gatherAll();
    if (this.motion) this.animate();
    if (switchView) {
      this.setViews();
      this.resetView();
    } else {
      this.render();
    }
  }

  /**
   * Show a layout too big for the page: from its tiles (loaded as the view needs them) or as a
   * sample of its rows. Per-row settings keep applying by row; the view is kept when N and
   * dims are unchanged (a layout streaming), and fitted otherwise.
   */
  setPartial(layout: PartialLayout): void {
    this.assertAlive();
    const { n, dims } = layout;
    const sameSet = n === this.n && n > 0;
    const switchView = !sameSet || dims !== this.dimsValue;
    if (!sameSet) this.resetRows();
    this.leavePartial();
    this.motion = null;
    this.n = n;
    this.dimsValue = dims;
    this.positions = new Float32Array(0);
    this.defaultColors = new Uint8Array(0);
    const sample = layout.sample;
    const raw: Bounds =
      layout.low && layout.high
        ? { min: toVec3(layout.low), max: toVec3(layout.high), count: n }
        : computeBounds(sample?.positions ?? new Float32Array(0), dims);
    const normalization = normalizationOf(raw);
    this.bounds = normalizeBounds(raw, normalization);
    // The sphere around the box: a partial layout's farthest point is not known.
    this.radius = Math.hypot(...[0, 1, 2].map((k) => Math.max(-this.bounds.min[k]!, this.bounds.max[k]!)));
    const normalize = (positions: Float32Array): Float32Array =>
      applyNormalization(positions, dims, normalization).positions;
    this.partial = {
      normalization,
      tiles: layout.tiles ? new TileSet(layout.tiles, normalize, () => this.onTilesChanged()) : null,
      sample: sample ? { key: 'sample', positions: normalize(sample.positions), rows: sample.rows } : null,
    };
    this.fitZoom = this.fitCameraNow().zoom;
    if (switchView) {
      this.setViews();
      this.resetView();
    }
    this.updateTiles();
    this.gatherAll();
    this.render();
  }

  /**
   * Positions (raw, rows × dims) of rows of a partial layout that the page highlights, labels
   * or isolates: they are drawn, and ringed or labelled, even where their tile is not loaded.
   */
  setRowPositions(rows: Int32Array, positions: Float32Array): void {
    this.assertIndices(rows);
    if (!this.partial) return;
    const normalized = applyNormalization(positions, this.dimsValue, this.partial.normalization).positions;
    this.known = rows.length > 0 ? { key: 'known', positions: normalized, rows } : null;
    this.gatherAll();
    this.render();
  }

  /** N × 4 RGBA bytes (see colors.ts), or null for the default colour. */
  setColors(colors: Uint8Array | null): void {
    this.assertLength(colors, 4);
    this.colors = colors;
    this.updatePointsData();
    this.gatherHighlight();
    this.render();
  }

  /** Per-point size multipliers (1 = the default size), or null for all equal. */
  setSizes(sizes: Float32Array | null): void {
    this.assertLength(sizes, 1);
    this.sizes = sizes;
    this.updatePointsData();
    this.render();
  }

  /** Dot diameter (thumbnail edge with sprites) in CSS px at the fitted zoom; null = automatic. */
  setPointSize(px: number | null): void {
    this.pointSizeOverride = px;
    this.render();
  }

  /** Show only the points whose mask byte is non-zero ("Isolate selection"); null shows all. */
  setVisible(mask: Uint8Array | null): void {
    this.assertLength(mask, 1);
    this.visible = mask;
    this.updatePointsData();
    this.updateDensity();
    this.gatherAll();
    this.render();
  }

  /** Draw the selected points and their neighbours on top, larger and outlined. */
  setHighlight(selected: Int32Array, neighbors: Int32Array): void {
    this.assertIndices(selected);
    this.assertIndices(neighbors);
    this.selected = selected;
    this.neighbors = neighbors;
    this.gatherHighlight();
    this.render();
  }

  /**
   * Label these points (the hovered, selected and neighbours: a few, not all N). Where labels
   * would overlap, the one earlier in the list is shown.
   */
  setLabels(indices: Int32Array, texts: readonly string[]): void {
    if (indices.length !== texts.length) throw new Error(ERROR_LABELS_LENGTH);
    this.assertIndices(indices);
    this.labelIndices = indices;
    this.labelTexts = texts;
    this.gatherLabels();
    this.render();
  }

  /**
   * Where these points are on screen at the current camera: x, y pairs in CSS px from the plot's
   * top left (of the layout's end while it moves). For overlays such as the cluster names.
   */
  screenPositions(indices: Int32Array): Float32Array {
    this.assertIndices(indices);
    const out = new Float32Array(indices.length * 2).fill(Number.NaN);
    const viewport = this.currentViewport();
    if (!viewport) return out;
    const p = this.positions;
    indices.forEach((i, k) => {
      const [x = Number.NaN, y = Number.NaN] = viewport.project([p[3 * i]!, p[3 * i + 1]!, p[3 * i + 2]!]);
      out[2 * k] = x;
      out[2 * k + 1] = y;
    });
    return out;
  }

  /**
   * A kernel density layer under the points (2-D layouts only; ignored in 3-D): it shows
   * where overplotted points are dense. Computed once per layout, not per frame.
   */
  setDensity(on: boolean): void {
    this.assertAlive();
    if (on === this.densityOn) return;
    this.densityOn = on;
    this.updateDensity();
    this.render();
  }

  /** Label text size in CSS px. */
  setLabelSize(px: number): void {
    this.labelSize = px;
    this.render();
  }

  /**
   * Draw each point as its thumbnail from a sprite atlas; null returns to dots. An atlas larger
   * than the GPU's largest texture is scaled down to fit.
   */
  setSprite(sheet: SpriteSheet | null): void {
    this.sprite = sheet && fitSpriteSheet(sheet, this.limits.maxTextureSize);
    if (this.sprite) this.atlas = this.sprite.image;
    this.render();
  }

  /** Lines between points, as pairs [from0, to0, from1, to1, ...] (`__seq_next__`). */
  setSequences(pairs: Int32Array | null): void {
    if (pairs) {
      if (pairs.length % 2 !== 0) throw new Error(ERROR_ATTRIBUTE_LENGTH);
      this.assertIndices(pairs);
    }
    this.sequencePairs = pairs;
    this.gatherSequences();
    this.render();
  }

  /** 'navigate' moves the camera; 'rectangle' and 'lasso' drags select points. */
  setSelectionMode(mode: SelectionMode): void {
    this.overlay.setMode(mode);
  }

  setTheme(theme: ThemeName): void {
    this.themeName = theme;
    this.applyTheme();
    this.setViews();
    this.render();
  }

  /** Fit the camera to all points (3D: the default viewing angle). */
  resetView(): void {
    this.setViewState(toViewState(this.fitCameraNow(), this.fitZoom));
  }

  getCamera(): Camera {
    return fromViewState(this.dimsValue === 2 ? '2d' : '3d', this.viewState);
  }

  /** Restore a camera (bookmark, URL). One of the other mode than the data's is ignored. */
  setCamera(camera: Camera): void {
    if ((camera.mode === '2d') !== (this.dimsValue === 2)) return;
    this.setViewState(toViewState(camera, this.fitZoom));
  }

  /**
   * Resolves once a frame with the current points has been submitted to the GPU (to end a
   * loading indicator, or to time the first frame).
   */
  whenDrawn(): Promise<void> {
    this.assertAlive();
    // A new list draws the next frame even when nothing changed (see `render`).
    this.deck.setProps({ layers: [...this.shownLayers.points] });
    return new Promise((resolve) => this.drawWaiters.push(resolve));
  }

  /** The view as a PNG, background included ("Save image"). */
  async toPNG(): Promise<Blob> {
    await this.ready;
    this.assertAlive();
    // Draw now and read the canvas in the same task: the drawing buffer is still intact then,
    // which spares `preserveDrawingBuffer` (and its cost on every frame).
    this.deck.redraw('toPNG');
    this.overlayDeck.redraw('toPNG');
    const drawn = this.deck.getCanvas();
    const over = this.overlayDeck.getCanvas();
    if (!drawn || !over) throw new Error(ERROR_DESTROYED);
    const canvas = this.composite(drawn, over);
    return new Promise((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))), 'image/png'),
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.animationFrame !== null) cancelAnimationFrame(this.animationFrame);
    if (this.tileUpdate !== null) cancelAnimationFrame(this.tileUpdate);
    this.partial?.tiles?.destroy();
    this.overlay.destroy();
    this.backdrop.destroy();
    this.deck.finalize();
    this.overlayDeck.finalize();
    this.overlayDeck.getCanvas()?.remove();
  }

  // ---- internals -------------------------------------------------------------------------

  /** The points' canvas (over the background and the density, when shown) and the overlay's. */
  private composite(drawn: HTMLCanvasElement, over: HTMLCanvasElement): HTMLCanvasElement {
    const canvas = document.createElement('canvas');
    canvas.width = drawn.width;
    canvas.height = drawn.height;
    const context = canvas.getContext('2d');
    if (!context) return drawn;
    if (this.backdrop.visible) {
      // The points' canvas is transparent where no point is: the background shows through.
      context.fillStyle = this.container.style.background;
      context.fillRect(0, 0, canvas.width, canvas.height);
      this.backdrop.drawInto(context, drawn.width / Math.max(drawn.clientWidth, 1));
    }
    context.drawImage(drawn, 0, 0);
    context.drawImage(over, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  /**
   * Link the overlay's programs once the points are on screen and the page is idle, rather
   * than on the first hover (or in the frames that first show the points, which they delay).
   */
  private warmOverlay(): void {
    this.overlayWarm = 'scheduled';
    const warm = (): void => {
      this.overlayWarm = 'yes';
      this.render();
    };
    const whenIdle = (): void => {
      if (typeof requestIdleCallback === 'function') requestIdleCallback(warm, { timeout: 1000 });
      else setTimeout(warm, 0);
    };
    // Two frames on, the frame with the points is on screen: linked in an idle moment before
    // that, the overlay's programs (0.1-0.2 s) went into the next frame and held it back.
    requestAnimationFrame(() => requestAnimationFrame(whenIdle));
  }

  private assertAlive(): void {
    if (this.destroyed) throw new Error(ERROR_DESTROYED);
  }

  private assertLength(array: ArrayLike<number> | null, perPoint: number): void {
    this.assertAlive();
    if (array && array.length !== this.n * perPoint) throw new Error(ERROR_ATTRIBUTE_LENGTH);
  }

  private assertIndices(indices: Int32Array): void {
    this.assertAlive();
    for (const i of indices) if (i < 0 || i >= this.n) throw new Error(ERROR_INDEX_RANGE);
  }

  private fitCameraNow(): Camera {
    const { clientWidth, clientHeight } = this.container;
    return fitCamera(this.bounds, this.radius, this.dimsValue, clientWidth, clientHeight);
  }

  /** The view of the points' deck, or (`overlay`) of the overlay's: transparent, no controller. */
  private makeView(overlay = false): PlotView {
    // Distinct ids: deck.gl then builds a new controller when the view switches between 2D and
    // 3D (reusing the orthographic one for the orbit view throws on the first drag).
    const common = {
      id: this.dimsValue === 2 ? 'plot-2d' : 'plot-3d',
      clear: true,
      // None over the density image (and on the overlay): deck.gl then clears to transparent,
      // and what is under shows through. (A transparent clearColor would not do: deck.gl takes
      // an alpha of 0 for 255.)
      ...(this.backdrop.visible || overlay ? {} : { clearColor: THEMES[this.themeName].background }),
    };
    const controller = overlay ? false : { inertia: 300 };
    if (this.dimsValue === 2) {
      // y up, as in the 3D view and in every plot of a projection.
      return new OrthographicView({ ...common, flipY: false, controller });
    }
    // Y is the orbit axis: the data's y stays up while the camera circles around it.
    return new OrbitView({ ...common, orbitAxis: 'Y', fovy: FOVY, controller });
  }

  private setViews(): void {
    this.deck.setProps({ views: this.makeView() });
    this.overlayDeck.setProps({ views: this.makeView(true) });
  }

  private setViewState(viewState: ViewState): void {
    this.viewState = viewState;
    this.deck.setProps({ viewState });
    this.render();
    this.scheduleTileUpdate();
    this.options.onCameraChange?.(this.getCamera());
  }

  /** Per-row state of another data set no longer applies. */
  private resetRows(): void {
    this.colors = this.sizes = this.visible = this.sequencePairs = null;
    this.selected = this.neighbors = this.labelIndices = EMPTY;
    this.labelTexts = [];
    this.hovered = null;
    this.known = null;
    this.rowPositions = new Map();
  }

  private leavePartial(): void {
    this.partial?.tiles?.destroy();
    this.partial = null;
    this.known = null;
    this.setData.clear();
  }

  /** Choose the tiles for the view once per frame, however many camera changes it sees. */
  private scheduleTileUpdate(): void {
    if (!this.partial?.tiles || this.tileUpdate !== null) return;
    this.tileUpdate = requestAnimationFrame(() => {
      this.tileUpdate = null;
      if (!this.destroyed) this.updateTiles();
    });
  }

  private updateTiles(): void {
    const tiles = this.partial?.tiles;
    if (!tiles) return;
    const level = tiles.level;
    const before = tiles.drawn();
    tiles.update(this.viewBox());
    const after = tiles.drawn();
    if (level !== tiles.level || before.length !== after.length || before.some((d, k) => d.set !== after[k]!.set)) {
      this.onTilesChanged();
    }
  }

  private onTilesChanged(): void {
    this.gatherAll();
    this.render();
  }

  /** The part of the layout in view, in raw coordinates (2D); null in 3D (it turns). */
  private viewBox(): Box | null {
    const viewport = this.currentViewport();
    if (!viewport || this.dimsValue === 3 || !this.partial) return null;
    const { center, scale } = this.partial.normalization;
    const { clientWidth: w, clientHeight: h } = this.container;
    const corners = [viewport.unproject([0, 0]), viewport.unproject([w, h])];
    const raw = corners.map(([x = 0, y = 0]) => [x / scale + center[0], y / scale + center[1]]);
    return {
      min: [Math.min(raw[0]![0]!, raw[1]![0]!), Math.min(raw[0]![1]!, raw[1]![1]!)],
      max: [Math.max(raw[0]![0]!, raw[1]![0]!), Math.max(raw[0]![1]!, raw[1]![1]!)],
    };
  }

  private applyTheme(): void {
    const theme = THEMES[this.themeName];
    this.container.style.background = `rgb(${theme.background.slice(0, 3).join(',')})`;
    this.overlay.setColors(theme.gestureStroke, theme.gestureFill);
    this.gatherHighlight();
  }

  private currentPointSize(): number {
    const zoom = typeof this.viewState.zoom === 'number' ? this.viewState.zoom : this.fitZoom;
    if (this.sprite) {
      return spriteSizeAtZoom(this.pointSizeOverride ?? defaultSpriteSize(this.styleCount()), zoom, this.fitZoom);
    }
    return pointSizeAtZoom(this.pointSizeOverride ?? defaultPointSize(this.styleCount()), zoom, this.fitZoom);
  }

  /**
   * The number of points the default size and opacity suit: a partial layout draws about its
   * budget in view, whatever its size, and must look that dense.
   */
  private styleCount(): number {
    const partial = this.partial;
    if (!partial) return this.n;
    return Math.min(this.n, partial.tiles?.source.budget ?? partial.sample?.rows.length ?? this.n);
  }

  /** The viewport of the current camera (computed here: deck.gl updates its own lazily). */
  private currentViewport(): Viewport | null {
    const { clientWidth: width, clientHeight: height } = this.container;
    const view = this.makeView();
    return view instanceof OrbitView
      ? view.makeViewport({ width, height, viewState: this.viewState as OrbitViewState })
      : view.makeViewport({ width, height, viewState: this.viewState });
  }

  /** The labels that do not overlap a more important one at the current camera. */
  private declutteredLabels(source: LabelData, pointSize: number): LabelData {
    if (source.items.length < 2) return source;
    const viewport = this.currentViewport();
    if (!viewport) return source;
    const offset = labelOffset(pointSize, this.sprite !== null);
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

  /** Redraw every frame while a layout change runs (and only then). */
  private animate(): void {
    if (this.animationFrame !== null) return;
    const step = (): void => {
      this.animationFrame = null;
      if (!this.motion || this.destroyed) return;
      this.render();
      if (this.motion) this.animationFrame = requestAnimationFrame(step);
    };
    this.animationFrame = requestAnimationFrame(step);
  }

  private render(): void {
    if (this.destroyed) return;
    let progress = this.motion ? motionProgress(this.motion, performance.now()) : 1;
    if (this.motion && progress >= 1) {
      // Done: drop the start positions (a buffer of N) and the gathered start data.
      this.motion = null;
      this.updatePointsData();
      this.gatherAll();
      progress = 1;
    }
    const pointSize = this.currentPointSize();
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
    const shownLabels = this.declutteredLabels(labels, pointSize);
    // The overlay follows the camera only while it shows something: redrawn on every frame of
    // a pan with nothing to show, it made a pan frame at 10M ~0.2 s longer in software WebGL.
    const overlayShown = highlight.length > 0 || shownLabels.items.length > 0 || (this.sprite !== null && this.hovered !== null);
    if (overlayShown && this.overlayDeck.props.viewState !== this.viewState) this.overlayDeck.setProps({ viewState: this.viewState });
    const layers = buildLayers({
      points: this.pointLayers(),
      progress,
      pointSize,
      pointSizeRange: this.limits.pointSizeRange,
      opacity: defaultOpacity(this.styleCount()),
      sprite: this.partial ? null : this.sprite,
      coloured: this.colors !== null,
      atlas: this.atlas,
      hovered: this.hovered,
      hoveredPosition: this.hovered === null ? null : this.drawnPosition(this.hovered, progress),
      highlight,
      labels: shownLabels,
      labelSize: this.labelSize,
      sequences,
      theme: THEMES[this.themeName],
      warm: this.overlayWarm === 'yes',
    });
    if (!sameLayers(layers.points, this.shownLayers.points)) this.deck.setProps({ layers: layers.points });
    if (!sameLayers(layers.overlay, this.shownLayers.overlay)) this.overlayDeck.setProps({ layers: layers.overlay });
    this.shownLayers = layers;
    this.reportDetail();
  }

  /** The density image of the current points, when it is on and the whole 2-D layout is here
   * (a partial one's tiles are already a density-preserving sample). */
  private updateDensity(): void {
    const shown = this.backdrop.visible;
    this.backdrop.show(
      this.densityOn && this.dimsValue === 2 && this.n > 0 && !this.partial
        ? densityImage(densityGrid(this.positions, this.visible), DENSITY_GRID, DEFAULT_POINT_COLOR)
        : null,
    );
    if (this.backdrop.visible !== shown) this.setViews();
  }

  /** The points layers' data: the whole layout, or each set drawn of a partial one. */
  private pointLayers(): { id: string; data: PointsData }[] {
    this.drawnSets.clear();
    if (!this.partial) return [{ id: 'points', data: this.pointsData ?? NO_POINTS }];
    const layers: { id: string; data: PointsData }[] = [];
    for (const { set, count } of this.partialSets()) {
      this.drawnSets.set(set.key, set);
      layers.push({ id: set.key, data: this.dataOfSet(set, count) });
    }
    return layers;
  }

  /** The sets of points of a partial layout, and how many of each to draw. */
  private partialSets(): { set: PointSet; count: number }[] {
    const sets = this.partial?.tiles?.drawn() ?? [];
    const { sample } = this.partial ?? {};
    if (sample) sets.push({ set: sample, count: sample.rows.length });
    if (this.known) sets.push({ set: this.known, count: this.known.rows.length });
    return sets;
  }

  /** A set's deck.gl data: its colours and mask gathered from the per-row ones, once. */
  private dataOfSet(set: PointSet, count: number): PointsData {
    const cached = this.setData.get(set.key);
    if (cached && cached.count === count && cached.colors === this.colors && cached.visible === this.visible && cached.data.attributes.getPosition.value === set.positions) {
      return cached.data;
    }
    const gather = (source: Uint8Array, size: number): Uint8Array => {
      const out = new Uint8Array(set.rows.length * size);
      set.rows.forEach((row, k) => out.set(source.subarray(row * size, row * size + size), k * size));
      return out;
    };
    const colors = this.colors ? gather(this.colors, 4) : uniformColors(set.rows.length, DEFAULT_POINT_COLOR);
    const data: PointsData = {
      length: count,
      attributes: {
        getPosition: { value: set.positions, size: 3 },
        getColor: { value: colors, size: 4, normalized: true },
        ...(this.visible && { getVisible: { value: gather(this.visible, 1), size: 1, normalized: true } }),
      },
    };
    this.setData.set(set.key, { count, colors: this.colors, visible: this.visible, data });
    return data;
  }

  private reportDetail(): void {
    const shown = this.partial ? this.partialSets().reduce((sum, { count }) => sum + count, 0) : this.n;
    const level = this.partial?.tiles?.level ?? null;
    if (shown === this.shownCount && level === this.shownLevel) return;
    this.shownCount = shown;
    this.shownLevel = level;
    this.options.onDetail?.(shown, this.n, level);
  }

  private updatePointsData(): void {
    if (this.n === 0) {
      this.pointsData = null;
      return;
    }
    this.pointsData = {
      length: this.n,
      attributes: {
        getPosition: { value: this.positions, size: 3 },
        ...(this.motion && { getPreviousPosition: { value: this.motion.from, size: 3 } }),
        getColor: { value: this.colors ?? this.defaultColors, size: 4, normalized: true },
        ...(this.sizes && { getSize: { value: this.sizes, size: 1 } }),
        ...(this.visible && { getVisible: { value: this.visible, size: 1, normalized: true } }),
      },
    };
  }

  private gatherAll(): void {
    this.gatherHighlight();
    this.gatherLabels();
    this.gatherSequences();
  }

  /** Gather for the layout's end and, during a change, for its start as well. */
  private gathered<T>(gather: (layout: Layout) => T): Gathered<T> {
    if (this.partial) return { to: gather(sparseLayout(this.rowPositions, this.visible)), from: null };
    const to = gather(arrayLayout(this.positions, this.visible));
    const from = this.motion && gather(arrayLayout(this.motion.from, this.visible));
    return { to, from };
  }

  private gatherHighlight(): void {
    const { outline, accent } = THEMES[this.themeName];
    const style = { colors: this.colors ?? this.defaultColors, outline, accent };
    if (this.partial) this.findRows();
    this.highlight = this.gathered((layout) =>
      gatherHighlight(layout, this.selected, this.neighbors, this.hovered, style),
    );
  }

  /**
   * Where the highlighted and labelled rows of a partial layout are drawn: those the page gave
   * positions of, the hovered one, and those in the sets drawn.
   */
  private findRows(): void {
    const wanted = new Set<number>([...this.selected, ...this.neighbors, ...this.labelIndices]);
    const found = new Map<number, Float32Array>();
    const hovered = this.hovered === null ? undefined : this.rowPositions.get(this.hovered);
    if (this.hovered !== null && hovered) found.set(this.hovered, hovered);
    if (wanted.size > 0) {
      for (const { set, count } of this.partialSets()) {
        for (let k = 0; k < count; k++) {
          const row = set.rows[k]!;
          if (wanted.has(row)) found.set(row, set.positions.subarray(k * 3, k * 3 + 3));
        }
      }
    }
    this.rowPositions = found;
  }

  private gatherLabels(): void {
    this.labels = this.gathered((layout) => gatherLabels(layout, this.labelIndices, this.labelTexts));
  }

  private gatherSequences(): void {
    const pairs = this.sequencePairs;
    this.sequences = pairs && this.gathered((layout) => gatherSequences(layout, pairs));
  }

  /** Where point i is drawn at this progress of the layout change. */
  private drawnPosition(i: number, progress: number): Float32Array | null {
    if (this.partial) return this.rowPositions.get(i) ?? null;
    const to = this.positions.subarray(i * 3, i * 3 + 3);
    return this.motion ? lerpArray(this.motion.from.subarray(i * 3, i * 3 + 3), to, progress) : to.slice();
  }

  /**
   * The row of the point under the pointer (and, in a partial layout, where it is drawn),
   * picked on the CPU among the points drawn, where they are drawn in this frame.
   */
  private picked(info: PickingInfo): { row: number; at: Float32Array | null } | null {
    // deck.gl reports a pointer that left the plot at (-1, -1).
    if (this.n === 0 || info.x < 0 || info.y < 0) return null;
    const viewport = info.viewport ?? this.currentViewport();
    if (!viewport) return null;
    const progress = this.motion ? motionProgress(this.motion, performance.now()) : 1;
    const sets: PickablePoints[] = [];
    const drawn: PointSet[] = [];
    if (!this.partial) {
      sets.push({
        positions: this.positions,
        count: this.n,
        previous: this.motion?.from ?? null,
        progress,
        visible: this.visible,
        sizes: this.sizes,
      });
    } else {
      for (const { set, count } of this.partialSets()) {
        drawn.push(set);
        sets.push({ positions: set.positions, count, rows: set.rows, visible: this.visible });
      }
    }
    const pick = pickPoint(sets, {
      x: info.x,
      y: info.y,
      matrix: viewport.pixelProjectionMatrix,
      pointSize: this.currentPointSize(),
      pickingRadius: DEFAULT_PICKING_RADIUS,
    });
    if (!pick) return null;
    const set = drawn[pick.set];
    if (!set) return { row: pick.index, at: null };
    const k = pick.index;
    return { row: set.rows[k]!, at: set.positions.subarray(k * 3, k * 3 + 3) };
  }

  private handleHover(info: PickingInfo): void {
    const picked = this.picked(info);
    const index = picked?.row ?? null;
    if (index !== this.hovered) {
      this.hovered = index;
      if (picked?.at) this.rowPositions.set(picked.row, picked.at);
      this.gatherHighlight();
      this.render();
    }
    this.options.onHover?.(index, index === null ? null : { x: info.x, y: info.y });
  }

  /** Rectangle / lasso: points are tested where they are going, if a layout change runs. */
  private select(shape: SelectionShape, modifiers: Modifiers): void {
    const viewport = this.currentViewport();
    if (!viewport || this.n === 0) {
      this.options.onSelect?.(EMPTY, modifiers);
      return;
    }
    if (this.partial && this.options.onSelectShape) {
      this.options.onSelectShape(shapeQuery(shape, viewport.pixelProjectionMatrix, this.partial.normalization), modifiers);
      return;
    }
    const inside = (positions: Float32Array, visible: Uint8Array | null): Int32Array => {
      const screen = projectToScreen(positions, viewport.pixelProjectionMatrix, visible);
      return shape.kind === 'rectangle'
        ? selectInRect(screen, shape.x0, shape.y0, shape.x1, shape.y1)
        : selectInPolygon(screen, shape.polygon);
    };
    if (!this.partial) {
      this.options.onSelect?.(inside(this.positions, this.visible), modifiers);
      return;
    }
    // No one to ask: the points drawn.
    const rows = new Set<number>();
    for (const { set, count } of this.partialSets()) {
      for (const k of inside(set.positions.subarray(0, count * 3), null)) {
        const row = set.rows[k]!;
        if (!this.visible || this.visible[row] !== 0) rows.add(row);
      }
    }
    this.options.onSelect?.(Int32Array.from(rows), modifiers);
  }
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

/** A 3-vector from 2 or 3 coordinates (z = 0 for 2D). */
function toVec3(values: readonly number[]): Vec3 {
  return [values[0] ?? 0, values[1] ?? 0, values[2] ?? 0];
}

/**
 * The query for a shape drawn on a partial layout: the viewport's matrix (normalised
 * coordinates to pixels) after the layout's normalisation (raw to normalised).
 */
export function shapeQuery(shape: SelectionShape, pixelMatrix: ArrayLike<number>, { center, scale }: Normalization): ShapeQuery {
  const p = Array.from(pixelMatrix);
  // normalised = raw × scale − center × scale: the columns of x, y, z scale, the last shifts.
  const matrix = new Array<number>(16);
  for (let row = 0; row < 4; row++) {
    for (let col = 0; col < 3; col++) matrix[col * 4 + row] = p[col * 4 + row]! * scale;
    matrix[12 + row] = p[12 + row]! - scale * (center[0] * p[row]! + center[1] * p[4 + row]! + center[2] * p[8 + row]!);
  }
  if (shape.kind === 'rectangle') return { matrix, rectangle: [shape.x0, shape.y0, shape.x1, shape.y1] };
  return { matrix, polygon: Array.from(shape.polygon) };
}
