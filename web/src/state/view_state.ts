// What a view is made of — the part of the app state that a shared URL and a bookmark carry —
// and its defaults. Plain data, no Svelte: the URL and bookmark codecs are pure functions of it.

import type { Metric } from '../api/types';
import type { Camera, Dims } from '../render';

export type ProjectionKind = 'pca' | 'tsne' | 'umap' | 'custom';

export interface PcaSettings {
  /** Components on x, y and z (0-based, among the first 10); z is used in 3D. */
  components: [number, number, number];
  dims: Dims;
}

export interface TsneSettings {
  dims: Dims;
  perplexity: number;
  learningRate: number | 'auto';
  iterations: number;
  superviseColumn: string | null;
  superviseFactor: number;
  seed: number;
}

export interface UmapSettings {
  dims: Dims;
  neighbors: number;
  minDist: number;
  seed: number;
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
}

export const PROJECTION_KINDS: readonly ProjectionKind[] = ['umap', 'tsne', 'pca', 'custom'];

export const DEFAULT_PERPLEXITY = 30;
export const PERPLEXITY_RANGE: [number, number] = [2, 100];
export const DEFAULT_TSNE_ITERATIONS = 1000;
export const DEFAULT_SUPERVISE_FACTOR = 0.5;
export const DEFAULT_UMAP_NEIGHBORS = 15;
export const UMAP_NEIGHBORS_RANGE: [number, number] = [5, 50];
export const DEFAULT_UMAP_MIN_DIST = 0.1;
export const NEIGHBOR_COUNT_RANGE: [number, number] = [5, 999];
export const DEFAULT_NEIGHBORS: NeighborSettings = { k: 10, metric: 'cosine' };
/** PCA offers the first this many components. */
export const PCA_COMPONENTS = 10;

export function defaultProjection(): ProjectionSettings {
  const axis = (): AxisText => ({ text: '', regex: false });
  return {
    kind: 'pca',
    spherize: false,
    pca: { components: [0, 1, 2], dims: 3 },
    tsne: {
      dims: 3,
      perplexity: DEFAULT_PERPLEXITY,
      learningRate: 'auto',
      iterations: DEFAULT_TSNE_ITERATIONS,
      superviseColumn: null,
      superviseFactor: DEFAULT_SUPERVISE_FACTOR,
      seed: 0,
    },
    umap: { dims: 3, neighbors: DEFAULT_UMAP_NEIGHBORS, minDist: DEFAULT_UMAP_MIN_DIST, seed: 0 },
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
  };
}

/**
 * Settings that an embedding of this shape can run: PCA components and dimensions within D,
 * and the default perplexity within what N allows (t-SNE needs perplexity < (N − 1) / 3).
 * Values someone chose (a link, a bookmark) are left for the server to judge.
 */
export function fitToShape(p: ProjectionSettings, [n, d]: [number, number]): ProjectionSettings {
  const components = Math.min(PCA_COMPONENTS, d);
  const pcaDims: Dims = d < 3 ? 2 : p.pca.dims;
  const fitted = p.pca.components.map((c, k) => (c < components ? c : k)) as [number, number, number];
  const maxPerplexity = Math.max(PERPLEXITY_RANGE[0], Math.floor((n - 1) / 3) - 1);
  const perplexity = p.tsne.perplexity === DEFAULT_PERPLEXITY ? Math.min(DEFAULT_PERPLEXITY, maxPerplexity) : p.tsne.perplexity;
  const neighbors = Math.min(p.umap.neighbors, Math.max(2, n - 1));
  return { ...p, pca: { components: fitted, dims: pcaDims }, tsne: { ...p.tsne, perplexity }, umap: { ...p.umap, neighbors } };
}

/** Dimensions of the layout a projection setting produces. */
export function projectionDims(p: ProjectionSettings): Dims {
  return p.kind === 'custom' ? 2 : p[p.kind].dims;
}

export function isProjectionKind(value: unknown): value is ProjectionKind {
  return typeof value === 'string' && (PROJECTION_KINDS as readonly string[]).includes(value);
}
