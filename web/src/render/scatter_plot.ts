// ScatterPlot: the GPU scatter plot of the projector, framework-agnostic.
//
// Everything per point travels as typed arrays straight into GPU buffers (no per-point JS
// objects); hover and click use deck.gl's GPU picking; rectangle and lasso selection project
// the points once per gesture on the CPU (selection_geometry.ts).

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
import { countPoints, normalizePositions } from './bounds';
import type { Bounds, Dims } from './bounds';
import { FOVY, fitCamera, fromViewState, toViewState } from './camera';
import type { Camera } from './camera';
import { DEFAULT_POINT_COLOR, uniformColors } from './colors';
import { gatherHighlight, gatherLabels, gatherSequences } from './gather';
import type { Layout } from './gather';
import { declutter, measureLabel } from './label_layout';
import { easeInOutCubic, lerpArray, linear, motionProgress } from './motion';
import type { Motion } from './motion';
import { LABEL_FONT_FAMILY, LABEL_FONT_WEIGHT, buildLayers, labelOffset } from './plot_layers';
import type { HighlightData, LabelData, SequenceData } from './plot_layers';
import type { PointsData, SpriteSheet } from './points_layer';
import {
  defaultOpacity,
  defaultPointSize,
  defaultSpriteSize,
  pointSizeAtZoom,
  spriteSizeAtZoom,
} from './point_style';
import { projectToScreen, selectInPolygon, selectInRect } from './selection_geometry';
import { SelectionOverlay, modifiersOf } from './selection_overlay';
import type { Modifiers, SelectionMode, SelectionShape } from './selection_overlay';
import { fitSpriteSheet } from './sprite_fit';
import { THEMES } from './theme';
import type { ThemeName } from './theme';
import { probeWebGL } from './webgl_support';
import type { GpuLimits } from './webgl_support';

export interface ScatterPlotOptions {
  theme?: ThemeName;
  /**
   * Called on pointer moves over the plot (once per frame at most) with the point under the
   * pointer, picked on the GPU; `at` is in CSS px relative to the plot.
   */
  onHover?: (index: number | null, at: { x: number; y: number } | null) => void;
  /** A click on a point, or on empty space (null). */
  onClick?: (index: number | null, modifiers: Modifiers) => void;
  /** A rectangle or lasso gesture ended: the indices inside it (hidden points excluded). */
  onSelect?: (indices: Int32Array, modifiers: Modifiers) => void;
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

type ViewState = OrthographicViewState | OrbitViewState;
type PlotView = OrthographicView | OrbitView;

/** Gathered data at the end of a layout change and, while one runs, at its start. */
interface Gathered<T> {
  to: T;
  from: T | null;
}

const EMPTY = new Int32Array(0);
const EMPTY_HIGHLIGHT: HighlightData = {
  length: 0,
  positions: new Float64Array(0),
  fill: new Uint8Array(0),
  line: new Uint8Array(0),
  radius: new Float32Array(0),
};

export class ScatterPlot {
  private readonly deck: Deck<PlotView>;
  private readonly overlay: SelectionOverlay;
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
    this.ready = new Promise((resolve) => (resolveReady = resolve));
    this.deck = new Deck({
      parent: container,
      views: this.makeView(),
      viewState: this.viewState,
      layers: [],
      useDevicePixels: true,
      pickingRadius: DEFAULT_PICKING_RADIUS,
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
      onClick: (info, event) => {
        this.options.onClick?.(this.pickedIndex(info), modifiersOf(event.srcEvent));
      },
      getCursor: ({ isDragging, isHovering }) =>
        isDragging ? 'grabbing' : isHovering ? 'pointer' : 'grab',
      onLoad: () => resolveReady(),
      onAfterRender: () => {
        if (this.pointsData && this.drawWaiters.length > 0) {
          const waiters = this.drawWaiters;
          this.drawWaiters = [];
          for (const resolve of waiters) resolve();
        }
      },
      onError: (error) => this.options.onError?.(error),
    });
    this.overlay = new SelectionOverlay(container, (shape, modifiers) => this.select(shape, modifiers));
    this.applyTheme();
  }

  get pointCount(): number {
    return this.n;
  }

  get dims(): Dims {
    return this.dimsValue;
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
    this.motion = duration > 0 ? { from: from(), start: now, duration, easing } : null;
    if (!sameSet) {
      // Another data set: per-point state of the previous one no longer applies.
      this.colors = this.sizes = this.visible = this.sequencePairs = null;
      this.selected = this.neighbors = this.labelIndices = EMPTY;
      this.labelTexts = [];
      this.hovered = null;
      this.defaultColors = uniformColors(n, DEFAULT_POINT_COLOR);
    }
    this.n = n;
    this.dimsValue = dims;
    this.positions = layout.positions;
    this.bounds = layout.bounds;
    this.radius = layout.radius;
    this.fitZoom = this.fitCameraNow().zoom;
    this.updatePointsData();
    this.gatherAll();
    if (this.motion) this.animate();
    if (switchView) {
      this.deck.setProps({ views: this.makeView() });
      this.resetView();
    } else {
      this.render();
    }
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
    this.deck.setProps({ views: this.makeView() });
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
    return new Promise((resolve) => this.drawWaiters.push(resolve));
  }

  /** The view as a PNG, background included ("Save image"). */
  async toPNG(): Promise<Blob> {
    await this.ready;
    this.assertAlive();
    // Draw now and read the canvas in the same task: the drawing buffer is still intact then,
    // which spares `preserveDrawingBuffer` (and its cost on every frame).
    this.deck.redraw('toPNG');
    const canvas = this.deck.getCanvas();
    if (!canvas) throw new Error(ERROR_DESTROYED);
    return new Promise((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))), 'image/png'),
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.animationFrame !== null) cancelAnimationFrame(this.animationFrame);
    this.overlay.destroy();
    this.deck.finalize();
  }

  // ---- internals -------------------------------------------------------------------------

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

  private makeView(): PlotView {
    // Distinct ids: deck.gl then builds a new controller when the view switches between 2D and
    // 3D (reusing the orthographic one for the orbit view throws on the first drag).
    const common = {
      id: this.dimsValue === 2 ? 'plot-2d' : 'plot-3d',
      clear: true,
      clearColor: THEMES[this.themeName].background,
    };
    if (this.dimsValue === 2) {
      // y up, as in the 3D view and in every plot of a projection.
      return new OrthographicView({ ...common, flipY: false, controller: { inertia: 300 } });
    }
    // Y is the orbit axis: the data's y stays up while the camera circles around it.
    return new OrbitView({ ...common, orbitAxis: 'Y', fovy: FOVY, controller: { inertia: 300 } });
  }

  private setViewState(viewState: ViewState): void {
    this.viewState = viewState;
    this.deck.setProps({ viewState });
    this.render();
    this.options.onCameraChange?.(this.getCamera());
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
      return spriteSizeAtZoom(this.pointSizeOverride ?? defaultSpriteSize(this.n), zoom, this.fitZoom);
    }
    return pointSizeAtZoom(this.pointSizeOverride ?? defaultPointSize(this.n), zoom, this.fitZoom);
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
    this.deck.setProps({
      layers: buildLayers({
        points: this.pointsData,
        progress,
        pointSize,
        pointSizeRange: this.limits.pointSizeRange,
        opacity: defaultOpacity(this.n),
        sprite: this.sprite,
        coloured: this.colors !== null,
        atlas: this.atlas,
        hovered: this.hovered,
        hoveredPosition: this.hovered === null ? null : this.drawnPosition(this.hovered, progress),
        highlight,
        labels: this.declutteredLabels(labels, pointSize),
        labelSize: this.labelSize,
        sequences,
        theme: THEMES[this.themeName],
      }),
    });
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
    const to = gather({ positions: this.positions, visible: this.visible });
    const from = this.motion && gather({ positions: this.motion.from, visible: this.visible });
    return { to, from };
  }

  private gatherHighlight(): void {
    const { outline, accent } = THEMES[this.themeName];
    const style = { colors: this.colors ?? this.defaultColors, outline, accent };
    this.highlight = this.gathered((layout) =>
      gatherHighlight(layout, this.selected, this.neighbors, this.hovered, style),
    );
  }

  private gatherLabels(): void {
    this.labels = this.gathered((layout) => gatherLabels(layout, this.labelIndices, this.labelTexts));
  }

  private gatherSequences(): void {
    const pairs = this.sequencePairs;
    this.sequences = pairs && this.gathered((layout) => gatherSequences(layout, pairs));
  }

  /** Where point i is drawn at this progress of the layout change. */
  private drawnPosition(i: number, progress: number): Float32Array {
    const to = this.positions.subarray(i * 3, i * 3 + 3);
    return this.motion ? lerpArray(this.motion.from.subarray(i * 3, i * 3 + 3), to, progress) : to.slice();
  }

  private pickedIndex(info: PickingInfo): number | null {
    return info.layer?.id === 'points' && info.index >= 0 ? info.index : null;
  }

  private handleHover(info: PickingInfo): void {
    const index = this.pickedIndex(info);
    if (index !== this.hovered) {
      this.hovered = index;
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
    const screen = projectToScreen(this.positions, viewport.pixelProjectionMatrix, this.visible);
    const indices =
      shape.kind === 'rectangle'
        ? selectInRect(screen, shape.x0, shape.y0, shape.x1, shape.y1)
        : selectInPolygon(screen, shape.polygon);
    this.options.onSelect?.(indices, modifiers);
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
