// What a view is made of — the part of the app state that a shared URL and a bookmark carry —
// and its defaults. Plain data, no Svelte: the URL and bookmark codecs are pure functions of it.

import type { Metric } from '../api/types';
import type { Camera, Dims } from '../render';

export type ProjectionKind = 'pca' | 'tsne' | 'umap' | 'custom';

export interface PcaSettings {
  /** Components on x, y and z (0-based, among the first the server offers); z is used in 3D. */
  components: [number, number, number];
  dims: Dims;
}

// A parameter left null is the server's default for it (GET /api/config; lowered to fit N
// where N bounds it): a request leaves it out, and a link does not carry it.

export interface TsneSettings {
  dims: Dims;
  perplexity: number | null;
  learningRate: number | 'auto' | null;
  iterations: number | null;
  superviseColumn: string | null;
  superviseFactor: number | null;
  seed: number | null;
}

export interface UmapSettings {
  dims: Dims;
  neighbors: number | null;
  minDist: number | null;
  seed: number | null;
}

export interface AxisText {
  text: string;
  regex: boolean;
}

export interface CustomSettings {
  /** The metadata column the four queries search. */
  column: string | null;
  left: AxisText;
  right: AxisText;
  up: AxisText;
  down: AxisText;
}

export interface ProjectionSettings {
  kind: ProjectionKind;
  spherize: boolean;
  pca: PcaSettings;
  tsne: TsneSettings;
  umap: UmapSettings;
  custom: CustomSettings;
}

export interface NeighborSettings {
  k: number;
  metric: Metric;
}

export interface ViewState {
  embedding: string | null;
  projection: ProjectionSettings;
  selection: number[];
  camera: Camera | null;
  /** The "Color by" column; '' for none, null to let the app choose. */
  colorBy: string | null;
  /** Colour a numeric column by category (null: the default for the column). */
  categorical: boolean | null;
  labelBy: string | null;
  /** The embedding compared with `embedding` (the compare view), or none. */
  compare: string | null;
  /** Which step of `compare` (its index), or none: its own vectors. */
  compareStep: number | null;
  /** The view names its number of dimensions (a link's `*_dims`, the widget's `dims`, a
   * view on screen); else, above the LOD threshold, the app opens in 2-D. */
  dimsChosen: boolean;
}

export const PROJECTION_KINDS: readonly ProjectionKind[] = ['umap', 'tsne', 'pca', 'custom'];

export const NEIGHBOR_COUNT_RANGE: [number, number] = [5, 999];
export const DEFAULT_NEIGHBORS: NeighborSettings = { k: 10, metric: 'cosine' };

export function defaultProjection(): ProjectionSettings {
  const axis = (): AxisText => ({ text: '', regex: false });
  return {
    kind: 'pca',
    spherize: false,
    pca: { components: [0, 1, 2], dims: 3 },
    tsne: { dims: 3, perplexity: null, learningRate: null, iterations: null, superviseColumn: null, superviseFactor: null, seed: null },
    umap: { dims: 3, neighbors: null, minDist: null, seed: null },
    custom: { column: null, left: axis(), right: axis(), up: axis(), down: axis() },
  };
}

export function defaultView(): ViewState {
  return {
    embedding: null,
    projection: defaultProjection(),
    selection: [],
    camera: null,
    colorBy: null,
    categorical: null,
    labelBy: null,
    compare: null,
    compareStep: null,
    dimsChosen: false,
  };
}

/**
 * Settings that an embedding of this shape can run: PCA components and dimensions within D
 * (and the `pcaComponents` the server offers), UMAP's neighbours below N. Other parameters
 * someone chose (a link, a bookmark) are left for the server to judge; those left at their
 * default the server fits to N itself.
 */
export function fitToShape(p: ProjectionSettings, [n, d]: [number, number], pcaComponents: number): ProjectionSettings {
  const components = Math.min(pcaComponents, d);
  const pcaDims: Dims = d < 3 ? 2 : p.pca.dims;
  const fitted = p.pca.components.map((c, k) => (c < components ? c : k)) as [number, number, number];
  const neighbors = p.umap.neighbors === null ? null : Math.min(p.umap.neighbors, Math.max(2, n - 1));
  return { ...p, pca: { components: fitted, dims: pcaDims }, umap: { ...p.umap, neighbors } };
}

/** The same settings with PCA, t-SNE and UMAP in 2D. */
export function inTwoDimensions(p: ProjectionSettings): ProjectionSettings {
  return { ...p, pca: { ...p.pca, dims: 2 }, tsne: { ...p.tsne, dims: 2 }, umap: { ...p.umap, dims: 2 } };
}

/** Dimensions of the layout a projection setting produces. */
export function projectionDims(p: ProjectionSettings): Dims {
  return p.kind === 'custom' ? 2 : p[p.kind].dims;
}

export function isProjectionKind(value: unknown): value is ProjectionKind {
  return typeof value === 'string' && (PROJECTION_KINDS as readonly string[]).includes(value);
}
