// TensorBoard's bookmark format (its `State`, SPEC §2.7): reading it into a view, and writing a
// view in it, so bookmark files go both ways between TensorBoard and this app.

import type { Camera, Dims } from '../render';
import type { ResolvedParameters } from './method_params';
import { defaultView, isProjectionKind } from './view_state';
import type { AxisText, ProjectionKind, ViewState } from './view_state';

/** TensorBoard's camera: three.js position and target, and its zoom. */
export interface TbCameraDef {
  orthographic: boolean;
  position: [number, number, number];
  target: [number, number, number];
  zoom: number;
}

export interface TbState {
  label: string;
  isSelected: boolean;
  selectedProjection?: ProjectionKind;
  dataSetDimensions?: [number, number];
  tSNEIteration?: number;
  tSNEPerplexity?: number;
  tSNELearningRate?: number;
  tSNEis3d?: boolean;
  umapIs3d?: boolean;
  umapNeighbors?: number;
  umapMinDist?: number;
  pcaComponentDimensions?: number[];
  customSelectedSearchByMetadataOption?: string;
  customXLeftText?: string;
  customXLeftRegex?: boolean;
  customXRightText?: string;
  customXRightRegex?: boolean;
  customYUpText?: string;
  customYUpRegex?: boolean;
  customYDownText?: string;
  customYDownRegex?: boolean;
  projections?: Record<string, number>[];
  filteredPoints?: number[] | null;
  selectedPoints?: number[];
  shuffledDataIndices?: number[];
  cameraDef?: TbCameraDef | null;
  selectedColorOptionName?: string | null;
  forceCategoricalColoring?: boolean;
  selectedLabelOption?: string | null;
}

/** TensorBoard's name of "no colouring" in its Color by menu. */
export const TB_NO_COLOR = 'No color map';
/** TensorBoard's default t-SNE learning rate (written where ours is "auto"). */
const TB_DEFAULT_LEARNING_RATE = 10;
/** three.js cameras of TensorBoard's scatter plot. */
const TB_FOV_DEGREES = 70;
const TB_ORTHO_HALF_EXTENT = 1.2;
const TB_2D_CAMERA_DISTANCE = 4;

const CUSTOM_KEYS = { left: 'XLeft', right: 'XRight', up: 'YUp', down: 'YDown' } as const;

/** What a TensorBoard state describes, in our terms. */
export interface RestoredState {
  view: ViewState;
  /** Saved coordinates of the selected projection (N × dims), when the bookmark has them. */
  layout: Float32Array | null;
  /** Points shown ("Isolate"), or null for all. */
  isolated: number[] | null;
  tsneIteration: number;
}

/**
 * Read a TensorBoard state for a data set of n points. `plotHeight` (CSS px) turns its camera
 * into ours. Indices of a filtered state (`filteredPoints`) are mapped back to the full set.
 */
export function fromTensorBoard(state: TbState, n: number, plotHeight: number): RestoredState {
  const view = defaultView();
  const p = view.projection;
  if (isProjectionKind(state.selectedProjection)) p.kind = state.selectedProjection;
  const pcaDims = state.pcaComponentDimensions?.filter((c) => Number.isInteger(c) && c >= 0) ?? [];
  if (pcaDims.length >= 2) {
    p.pca.components = [pcaDims[0]!, pcaDims[1]!, pcaDims[2] ?? 2];
    p.pca.dims = pcaDims.length >= 3 ? 3 : 2;
  }
  p.tsne.dims = state.tSNEis3d === false ? 2 : 3;
  if (state.tSNEPerplexity) p.tsne.perplexity = state.tSNEPerplexity;
  if (state.tSNELearningRate) p.tsne.learningRate = state.tSNELearningRate;
  p.umap.dims = state.umapIs3d === false ? 2 : 3;
  if (state.umapNeighbors) p.umap.neighbors = state.umapNeighbors;
  if (typeof state.umapMinDist === 'number') p.umap.minDist = state.umapMinDist;
  p.custom.column = state.customSelectedSearchByMetadataOption ?? null;
  for (const [axis, key] of Object.entries(CUSTOM_KEYS) as [keyof typeof CUSTOM_KEYS, string][]) {
    const text: AxisText = {
      text: (state[`custom${key}Text` as keyof TbState] as string | undefined) ?? '',
      regex: Boolean(state[`custom${key}Regex` as keyof TbState]),
    };
    p.custom[axis] = text;
  }

  // A filtered state numbers its points within the filter.
  const filtered = Array.isArray(state.filteredPoints) ? state.filteredPoints.filter((i) => i >= 0 && i < n) : null;
  const toFull = (i: number): number => (filtered ? (filtered[i] ?? -1) : i);
  view.selection = (state.selectedPoints ?? []).map(toFull).filter((i) => i >= 0 && i < n);
  const color = state.selectedColorOptionName;
  view.colorBy = color === TB_NO_COLOR ? '' : (color ?? null);
  view.categorical = state.forceCategoricalColoring ? true : null;
  view.labelBy = state.selectedLabelOption ?? null;
  const dims: Dims = p.kind === 'custom' ? 2 : p[p.kind].dims;
  view.camera = state.cameraDef ? cameraFromTensorBoard(state.cameraDef, dims, plotHeight) : null;
  return {
    view,
    layout: layoutFromProjections(state.projections ?? [], projectionKeys(view), n, toFull),
    isolated: filtered,
    tsneIteration: state.tSNEIteration ?? 0,
  };
}

/** The per-point keys TensorBoard uses for the coordinates of a projection. */
export function projectionKeys(view: ViewState): string[] {
  const p = view.projection;
  switch (p.kind) {
    case 'pca':
      return p.pca.components.slice(0, p.pca.dims).map((c) => `pca-${c}`);
    case 'tsne':
      return ['tsne-0', 'tsne-1', 'tsne-2'].slice(0, p.tsne.dims);
    case 'umap':
      return ['umap-0', 'umap-1', 'umap-2'].slice(0, p.umap.dims);
    case 'custom':
      return ['linear-x', 'linear-y'];
  }
}

function layoutFromProjections(
  projections: Record<string, number>[],
  keys: string[],
  n: number,
  toFull: (i: number) => number,
): Float32Array | null {
  if (projections.length === 0 || !projections.some((point) => keys.every((key) => typeof point[key] === 'number'))) {
    return null;
  }
  // Points without saved coordinates (TensorBoard's t-SNE sampled some) are not drawn.
  const layout = new Float32Array(n * keys.length).fill(NaN);
  projections.forEach((point, i) => {
    const row = toFull(i);
    if (row < 0 || row >= n) return;
    keys.forEach((key, k) => {
      const v = point[key];
      if (typeof v === 'number') layout[row * keys.length + k] = v;
    });
  });
  return layout;
}

export interface ToTensorBoardInput {
  label: string;
  view: ViewState;
  shape: [number, number];
  /** The layout shown (N × dims), stored per point unless null (too many points). */
  layout: Float32Array | null;
  isolated: number[] | null;
  tsneIteration: number;
  plotHeight: number;
  /** t-SNE's and UMAP's parameters as they run (TensorBoard has no "the default"); null: unknown. */
  parameters: ResolvedParameters | null;
}

/** A view as a TensorBoard state (loadable by TensorBoard's projector). */
export function toTensorBoard(input: ToTensorBoardInput): TbState {
  const { view, shape, layout, isolated, parameters } = input;
  const p = view.projection;
  const n = shape[0];
  const keys = projectionKeys(view);
  // TensorBoard numbers points within the filter when one is on.
  const rows = isolated ?? null;
  const position = new Map(rows?.map((row, k) => [row, k]));
  const fromFull = (i: number): number => (rows ? (position.get(i) ?? -1) : i);
  const count = rows ? rows.length : n;
  const projections = layout
    ? Array.from({ length: count }, (_, k) => {
        const row = rows ? rows[k]! : k;
        const point: Record<string, number> = {};
        keys.forEach((key, c) => {
          const v = layout[row * keys.length + c]!;
          if (Number.isFinite(v)) point[key] = v;
        });
        return point;
      })
    : [];
  const state: TbState = {
    label: input.label,
    isSelected: false,
    selectedProjection: p.kind,
    dataSetDimensions: shape,
    tSNEIteration: input.tsneIteration,
    tSNEis3d: p.tsne.dims === 3,
    umapIs3d: p.umap.dims === 3,
    pcaComponentDimensions: p.pca.components.slice(0, p.pca.dims),
    projections,
    selectedPoints: view.selection.map(fromFull).filter((i) => i >= 0),
    shuffledDataIndices: layout ? Array.from({ length: count }, (_, i) => i) : [],
    cameraDef: view.camera ? cameraToTensorBoard(view.camera, input.plotHeight) : null,
    selectedColorOptionName: view.colorBy || TB_NO_COLOR,
    forceCategoricalColoring: view.categorical === true,
    selectedLabelOption: view.labelBy,
  };
  if (parameters) {
    const { tsne, umap } = parameters;
    state.tSNEPerplexity = tsne.perplexity;
    state.tSNELearningRate = tsne.learningRate === 'auto' ? TB_DEFAULT_LEARNING_RATE : tsne.learningRate;
    state.umapNeighbors = umap.neighbors;
    state.umapMinDist = umap.minDist;
  }
  if (p.custom.column) state.customSelectedSearchByMetadataOption = p.custom.column;
  for (const [axis, key] of Object.entries(CUSTOM_KEYS) as [keyof typeof CUSTOM_KEYS, string][]) {
    Object.assign(state, { [`custom${key}Text`]: p.custom[axis].text, [`custom${key}Regex`]: p.custom[axis].regex });
  }
  if (rows) state.filteredPoints = rows;
  return state;
}

const DEG = Math.PI / 180;

/**
 * TensorBoard's camera in ours. Both plots normalise the layout into the cube [-1, 1], so the
 * target carries over; the zoom is matched by the size of the view at the target.
 */
export function cameraFromTensorBoard(def: TbCameraDef, dims: Dims, plotHeight: number): Camera | null {
  const [px, py, pz] = def.position;
  const [tx, ty, tz] = def.target;
  if (![px, py, pz, tx, ty, tz].every(Number.isFinite)) return null;
  if (dims === 2) {
    // Orthographic: the view is 2 × 1.2 / zoom units high.
    const halfHeight = TB_ORTHO_HALF_EXTENT / (def.zoom > 0 ? def.zoom : 1);
    return { mode: '2d', target: [tx, ty], zoom: Math.log2(plotHeight / 2 / halfHeight) };
  }
  const [dx, dy, dz] = [px - tx, py - ty, pz - tz];
  const distance = Math.hypot(dx, dy, dz) || 1;
  const halfHeight = distance * Math.tan((TB_FOV_DEGREES / 2) * DEG);
  return {
    mode: '3d',
    target: [tx, ty, tz],
    zoom: Math.log2(plotHeight / 2 / halfHeight),
    rotationOrbit: Math.atan2(dx, dz) / DEG,
    rotationX: Math.asin(dy / distance) / DEG,
  };
}

export function cameraToTensorBoard(camera: Camera, plotHeight: number): TbCameraDef {
  const halfHeight = plotHeight / 2 / 2 ** camera.zoom;
  if (camera.mode === '2d') {
    const [x, y] = camera.target;
    return { orthographic: true, position: [x, y, TB_2D_CAMERA_DISTANCE], target: [x, y, 0], zoom: TB_ORTHO_HALF_EXTENT / halfHeight };
  }
  const distance = halfHeight / Math.tan((TB_FOV_DEGREES / 2) * DEG);
  const [tx, ty, tz] = camera.target;
  const elevation = camera.rotationX * DEG;
  const orbit = camera.rotationOrbit * DEG;
  return {
    orthographic: false,
    position: [
      tx + distance * Math.cos(elevation) * Math.sin(orbit),
      ty + distance * Math.sin(elevation),
      tz + distance * Math.cos(elevation) * Math.cos(orbit),
    ],
    target: [tx, ty, tz],
    zoom: 1,
  };
}
