// ScatterPlot: the GPU scatter plot of the projector, framework-agnostic.
//
// Everything per point travels as typed arrays straight into GPU buffers (no per-point JS
// objects); hover and click pick the point nearest the pointer on the CPU (point_picking.ts),
// and rectangle and lasso selection project the points once per gesture (selection_geometry.ts):
// deck.gl's GPU picking would draw every point again per pick, which software WebGL cannot
// afford at ten million points (issue 12).
//
// A layout too big for the page is drawn in part (`setPartial`, partial_points.ts): from its
// tiles, loaded as the view needs them, or as a sample of its rows while it still streams.
// Points are then named by their row in the whole layout everywhere (colours, masks,
// highlights, labels, hover, click); a drawn shape is sent to `onSelectShape` to be decided over
// every row (by the server). The marked points (rings, labels, lines) are plot_annotations.ts's;
// the views, plot_view.ts's; the layers, plot_layers.ts's.

import { Deck } from '@deck.gl/core';
import type { PickingInfo, Viewport } from '@deck.gl/core';

import {
  DEFAULT_PICKING_RADIUS,
  DEFAULT_TRANSITION_MS,
  ERROR_ATTRIBUTE_LENGTH,
  ERROR_DESTROYED,
  ERROR_INDEX_RANGE,
  ERROR_LABELS_LENGTH,
} from '../constants';
import { countPoints, normalizePositions } from './bounds';
import type { Bounds, Dims } from './bounds';
import { fitCamera, fromViewState, toViewState } from './camera';
import type { Camera } from './camera';
import { DEFAULT_POINT_COLOR, uniformColors } from './colors';
import { DENSITY_GRID, DensityBackdrop, densityGrid, densityImage } from './density_layer';
import { arrayLayout, sparseLayout } from './gather';
import { easeInOutCubic, lerpArray, linear, motionProgress } from './motion';
import type { Motion } from './motion';
import { PartialPoints, shapeQuery } from './partial_points';
import { compositeCanvases, overlayCanvasIn } from './plot_canvas';
import type { PartialLayout } from './partial_points';
import { Annotations } from './plot_annotations';
import type { Layouts } from './plot_annotations';
import { buildLayers, labelOffset, sameLayers } from './plot_layers';
import type { LayoutTransition, ScatterPlotOptions } from './plot_options';
import type { PlotLayers } from './plot_layers';
import { makePlotView, makeViewport, viewBox } from './plot_view';
import type { PlotView, ViewState } from './plot_view';
import type { Box } from './level_of_detail';
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
import type { PointSet } from './tile_set';
import { THEMES } from './theme';
import type { ThemeName } from './theme';
import { probeWebGL } from './webgl_support';
import type { GpuLimits } from './webgl_support';

export type { PartialLayout, ShapeQuery } from './partial_points';
export type { LayoutTransition, ScatterPlotOptions } from './plot_options';
export { shapeQuery } from './partial_points';

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

export class ScatterPlot {
  private readonly deck: Deck<PlotView>;
  /** Draws the rows of a partial layout given by position, the highlight rings, the hovered
   * thumbnail and labels over the points, on a canvas of its own: they change on every hover
   * or selection (plot_layers.ts). */
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
  /** Selected, neighbour, hovered and labelled rows, sequences, and their drawn data. */
  private readonly marks = new Annotations();
  private densityOn = false;
  private sprite: SpriteSheet | null = null;
  private atlas: SpriteSheet['image'] | null = null;
  private themeName: ThemeName;
  private pointSizeOverride: number | null = null;

  private viewState: ViewState = { target: [0, 0, 0], zoom: 0 };
  private fitZoom = 0;
  /** The layout change in progress, if any; `positions` holds its end. */
  private motion: Motion | null = null;
  private animationFrame: number | null = null;
  private pointsData: PointsData | null = null;

  /** A layout drawn in part (tiles or a sample), or null when `positions` holds it all. */
  private partial: PartialPoints | null = null;
  /** Where highlighted and labelled rows of a partial layout are drawn, by row. */
  private rowPositions = new Map<number, Float32Array>();
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
      getCursor: ({ isDragging }) => (isDragging ? 'grabbing' : this.marks.hovered !== null ? 'pointer' : 'grab'),
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
    this.overlayDeck = new Deck({
      canvas: overlayCanvasIn(container),
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
    // In the first idle moment, after the page has asked for its first layout: the empty
    // layer then links the points' program while that layout is computed.
    whenIdle(() => this.render());
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
    this.partial = new PartialPoints(layout, dims, () => this.onTilesChanged());
    this.bounds = this.partial.bounds;
    this.radius = this.partial.radius;
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
    this.partial.setKnown(rows, positions);
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
    this.marks.selected = selected;
    this.marks.neighbors = neighbors;
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
    this.marks.labelIndices = indices;
    this.marks.labelTexts = texts;
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
    this.marks.labelSize = px;
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
    this.marks.sequencePairs = pairs;
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
    const canvas = compositeCanvases(drawn, over, this.backdrop, this.container.style.background);
    return new Promise((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))), 'image/png'),
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.animationFrame !== null) cancelAnimationFrame(this.animationFrame);
    if (this.tileUpdate !== null) cancelAnimationFrame(this.tileUpdate);
    this.partial?.destroy();
    this.overlay.destroy();
    this.backdrop.destroy();
    this.deck.finalize();
    this.overlayDeck.finalize();
    this.overlayDeck.getCanvas()?.remove();
  }

  // ---- internals -------------------------------------------------------------------------

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
    // Two frames on, the frame with the points is on screen: linked in an idle moment before
    // that, the overlay's programs (0.1-0.2 s) went into the next frame and held it back.
    requestAnimationFrame(() => requestAnimationFrame(() => whenIdle(warm)));
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
    // No clear colour over the density image (and on the overlay): what is under shows through.
    return makePlotView(this.dimsValue, overlay, this.backdrop.visible || overlay ? null : THEMES[this.themeName].background);
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
    this.colors = this.sizes = this.visible = null;
    this.marks.reset();
    this.rowPositions = new Map();
  }

  private leavePartial(): void {
    this.partial?.destroy();
    this.partial = null;
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
    if (this.partial?.updateTiles(this.viewBox())) this.onTilesChanged();
  }

  private onTilesChanged(): void {
    this.gatherAll();
    this.render();
  }

  /** The part of the layout in view, in raw coordinates (2D); null in 3D (it turns). */
  private viewBox(): Box | null {
    const viewport = this.currentViewport();
    if (!viewport || this.dimsValue === 3 || !this.partial) return null;
    return viewBox(viewport, this.container.clientWidth, this.container.clientHeight, this.partial.normalization);
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
    return this.partial ? this.partial.styleCount(this.n) : this.n;
  }

  /** The viewport of the current camera (computed here: deck.gl updates its own lazily). */
  private currentViewport(): Viewport | null {
    const { clientWidth: width, clientHeight: height } = this.container;
    return makeViewport(this.makeView(), width, height, this.viewState);
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
    const { highlight, labels, sequences } = this.marks.at(progress);
    const { hovered } = this.marks;
    const offset = labelOffset(pointSize, this.sprite !== null);
    const shownLabels = this.marks.declutteredLabels(labels, () => this.currentViewport(), offset);
    // The overlay follows the camera only while it shows something: redrawn on every frame of
    // a pan with nothing to show, it made a pan frame at 10M ~0.2 s longer in software WebGL.
    const known = this.partial?.knownData(this.colors, this.visible) ?? null;
    const overlayShown =
      known !== null || highlight.length > 0 || shownLabels.items.length > 0 || (this.sprite !== null && hovered !== null);
    if (overlayShown && this.overlayDeck.props.viewState !== this.viewState) this.overlayDeck.setProps({ viewState: this.viewState });
    const layers = buildLayers({
      points: this.pointLayers(),
      known,
      partial: this.partial !== null,
      progress,
      pointSize,
      pointSizeRange: this.limits.pointSizeRange,
      opacity: defaultOpacity(this.styleCount()),
      sprite: this.partial ? null : this.sprite,
      coloured: this.colors !== null,
      atlas: this.atlas,
      hovered,
      hoveredPosition: hovered === null ? null : this.drawnPosition(hovered, progress),
      highlight,
      labels: shownLabels,
      labelSize: this.marks.labelSize,
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

  /** The points layers' data: the whole layout, or each set drawn of a partial one (the rows
   * given by position are the overlay's). */
  private pointLayers(): { id: string; data: PointsData }[] {
    this.drawnSets.clear();
    if (!this.partial) return [{ id: 'points', data: this.pointsData ?? NO_POINTS }];
    const layers: { id: string; data: PointsData }[] = [];
    for (const drawn of this.partial.loadedSets()) {
      this.drawnSets.set(drawn.set.key, drawn.set);
      layers.push({ id: drawn.set.key, data: this.partial.dataOfSet(drawn, this.colors, this.visible) });
    }
    return layers;
  }

  private reportDetail(): void {
    const shown = this.partial ? this.partial.drawnSets().reduce((sum, { count }) => sum + count, 0) : this.n;
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

  /** Where the points are at the layout's end and, during a change, at its start. */
  private layouts(): Layouts {
    if (this.partial) return { to: sparseLayout(this.rowPositions, this.visible), from: null };
    const from = this.motion && arrayLayout(this.motion.from, this.visible);
    return { to: arrayLayout(this.positions, this.visible), from };
  }

  private gatherHighlight(): void {
    const { outline, accent } = THEMES[this.themeName];
    if (this.partial) this.findRows();
    this.marks.gatherHighlight(this.layouts(), { colors: this.colors ?? this.defaultColors, outline, accent });
  }

  /**
   * Where the highlighted and labelled rows of a partial layout are drawn: those the page gave
   * positions of, the hovered one, and those in the sets drawn.
   */
  private findRows(): void {
    const found = new Map<number, Float32Array>();
    const { hovered } = this.marks;
    const at = hovered === null ? undefined : this.rowPositions.get(hovered);
    if (hovered !== null && at) found.set(hovered, at);
    this.partial?.findRows(this.marks.wanted(), found);
    this.rowPositions = found;
  }

  private gatherLabels(): void {
    this.marks.gatherLabels(this.layouts());
  }

  private gatherSequences(): void {
    this.marks.gatherSequences(this.layouts());
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
      for (const { set, count } of this.partial.drawnSets()) {
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
    if (index !== this.marks.hovered) {
      this.marks.hovered = index;
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
    this.options.onSelect?.(this.partial.rowsInside((positions) => inside(positions, null), this.visible), modifiers);
  }
}

/** Runs `fn` when the page is next idle (a second later at most). */
function whenIdle(fn: () => void): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(fn, { timeout: 1000 });
  else setTimeout(fn, 0);
}
