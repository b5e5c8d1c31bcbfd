// The view in the URL hash, so that a link opens the same embedding, projection (and its
// parameters), selection and camera. Only what differs from the defaults is written; whatever
// cannot be read falls back to its default (an old or hand-edited link still opens).

import type { Camera } from '../render';
import { defaultView, isProjectionKind } from './view_state';
import type { AxisText, ProjectionSettings, ViewState } from './view_state';

/** Longer selections are left out of the URL (a bookmark keeps them). */
export const DEFAULT_URL_SELECTION_LIMIT = 1000;

const ROUND = 1e4;
const round = (x: number): number => Math.round(x * ROUND) / ROUND;

export function encodeView(view: ViewState): string {
  const d = defaultView().projection;
  const p = view.projection;
  const q = new URLSearchParams();
  type Value = string | number | null | undefined;
  const put = (key: string, value: Value, fallback: Value): void => {
    if (value !== null && value !== undefined && String(value) !== String(fallback)) q.set(key, String(value));
  };
  put('embedding', view.embedding, null);
  put('projection', p.kind, d.kind);
  put('spherize', p.spherize ? 1 : 0, 0);
  put('pca', p.pca.components.join(','), d.pca.components.join(','));
  put('pca_dims', p.pca.dims, d.pca.dims);
  put('tsne_dims', p.tsne.dims, d.tsne.dims);
  // Parameters left at the server's default (null) are not written.
  put('perplexity', p.tsne.perplexity, null);
  put('learning_rate', p.tsne.learningRate, null);
  put('iterations', p.tsne.iterations, null);
  put('supervise', p.tsne.superviseColumn, null);
  put('supervise_factor', p.tsne.superviseFactor, null);
  put('tsne_seed', p.tsne.seed, null);
  put('umap_dims', p.umap.dims, d.umap.dims);
  put('umap_neighbors', p.umap.neighbors, null);
  put('umap_min_dist', p.umap.minDist, null);
  put('umap_seed', p.umap.seed, null);
  put('custom_column', p.custom.column, null);
  for (const axis of ['left', 'right', 'up', 'down'] as const) {
    const { text, regex } = p.custom[axis];
    put(axis, text, '');
    put(`${axis}_regex`, regex ? 1 : 0, 0);
  }
  if (view.selection.length > 0 && view.selection.length <= DEFAULT_URL_SELECTION_LIMIT) {
    q.set('select', view.selection.join(','));
  }
  if (view.camera) q.set('camera', encodeCamera(view.camera));
  put('color', view.colorBy, null);
  put('categorical', view.categorical === null ? null : view.categorical ? 1 : 0, null);
  put('label', view.labelBy, null);
  put('compare', view.compare, null);
  put('compare_step', view.compareStep, null);
  return q.toString();
}

export function decodeView(hash: string): ViewState {
  const q = new URLSearchParams(hash.replace(/^#/, ''));
  const view = defaultView();
  const p: ProjectionSettings = view.projection;
  const num = <T>(key: string, fallback: T, min = -Infinity, max = Infinity): number | T => {
    const raw = q.get(key);
    const x = raw === null || raw.trim() === '' ? NaN : Number(raw);
    return Number.isFinite(x) && x >= min && x <= max ? x : fallback;
  };
  const whole = (key: string, min: number): number | null => {
    const x = num(key, null, min);
    return x === null ? null : Math.round(x);
  };
  const dims = (key: string, fallback: 2 | 3): 2 | 3 => (q.get(key) === '2' ? 2 : q.get(key) === '3' ? 3 : fallback);
  const flag = (key: string): boolean => q.get(key) === '1' || q.get(key) === 'true';

  view.embedding = q.get('embedding');
  const kind = q.get('projection');
  if (isProjectionKind(kind)) p.kind = kind;
  p.spherize = flag('spherize');
  const components = (q.get('pca') ?? '').split(',').map(Number);
  if (components.length === 3 && components.every((c) => Number.isInteger(c) && c >= 0)) {
    p.pca.components = components as [number, number, number];
  }
  view.dimsChosen = ['pca_dims', 'tsne_dims', 'umap_dims'].some((key) => q.has(key));
  p.pca.dims = dims('pca_dims', p.pca.dims);
  p.tsne.dims = dims('tsne_dims', p.tsne.dims);
  p.tsne.perplexity = num('perplexity', null, 0);
  p.tsne.learningRate = q.get('learning_rate') === 'auto' ? 'auto' : num('learning_rate', null, Number.MIN_VALUE);
  p.tsne.iterations = whole('iterations', 1);
  p.tsne.superviseColumn = q.get('supervise');
  p.tsne.superviseFactor = num('supervise_factor', null, 0, 1);
  p.tsne.seed = whole('tsne_seed', 0);
  p.umap.dims = dims('umap_dims', p.umap.dims);
  p.umap.neighbors = whole('umap_neighbors', 2);
  p.umap.minDist = num('umap_min_dist', null, 0, 1);
  p.umap.seed = whole('umap_seed', 0);
  p.custom.column = q.get('custom_column');
  for (const axis of ['left', 'right', 'up', 'down'] as const) {
    const text: AxisText = { text: q.get(axis) ?? '', regex: flag(`${axis}_regex`) };
    p.custom[axis] = text;
  }
  view.selection = (q.get('select') ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map(Number)
    .filter((i) => Number.isInteger(i) && i >= 0);
  view.camera = decodeCamera(q.get('camera'));
  view.colorBy = q.get('color');
  view.categorical = q.has('categorical') ? flag('categorical') : null;
  view.labelBy = q.get('label');
  view.compare = q.get('compare');
  view.compareStep = view.compare === null ? null : whole('compare_step', 0);
  return view;
}

/** `2d:x,y,zoom` or `3d:x,y,z,zoom,orbit,elevation`, rounded to 4 decimals. */
export function encodeCamera(camera: Camera): string {
  const values =
    camera.mode === '2d'
      ? [...camera.target, camera.zoom]
      : [...camera.target, camera.zoom, camera.rotationOrbit, camera.rotationX];
  return `${camera.mode}:${values.map(round).join(',')}`;
}

export function decodeCamera(text: string | null): Camera | null {
  const match = /^(2d|3d):(.*)$/.exec(text ?? '');
  if (!match) return null;
  const v = match[2]!.split(',').map(Number);
  if (!v.every(Number.isFinite)) return null;
  if (match[1] === '2d' && v.length === 3) return { mode: '2d', target: [v[0]!, v[1]!], zoom: v[2]! };
  if (match[1] === '3d' && v.length === 6) {
    return { mode: '3d', target: [v[0]!, v[1]!, v[2]!], zoom: v[3]!, rotationOrbit: v[4]!, rotationX: v[5]! };
  }
  return null;
}
