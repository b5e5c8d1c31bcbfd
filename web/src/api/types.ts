// Shapes of the HTTP API's JSON answers (docs/api.md). Binary answers are typed arrays.

export type ColumnKind = 'numeric' | 'categorical' | 'text';

export interface ColumnInfo {
  name: string;
  kind: ColumnKind;
  distinct: number;
}

export interface SpriteInfo {
  image_size: [number, number];
  single_image_dim: [number, number];
  grid: [number, number];
}

export interface EmbeddingInfo {
  id: string;
  run: string;
  name: string;
  tensor_name: string;
  shape: [number, number];
  dtype: string;
  columns: ColumnInfo[];
  has_sprite: boolean;
  sprite: SpriteInfo | null;
  bookmarks: number;
  warnings: string[];
}

export interface RunInfo {
  name: string;
  warnings: string[];
  embeddings: string[];
}

export type ProjectionMethod = 'pca' | 'tsne' | 'umap';

export interface ServerConfig {
  version: string;
  projection: ProjectionMethod | 'custom' | null;
}

export interface ProjectionRequest {
  method: ProjectionMethod;
  dims: 2 | 3;
  spherize: boolean;
  seed: number;
  params: Record<string, unknown>;
}

export type JobState = 'queued' | 'running' | 'cancelling' | 'done' | 'failed' | 'cancelled' | 'paused';

export interface JobStatus {
  job: string;
  state: JobState;
  progress: number;
  iteration: number | null;
  message: string | null;
  error: string | null;
  n_samples: number;
  dims: 2 | 3;
  explained_variance_ratio: number[] | null;
  cached: boolean;
}

export interface NeighborsResult {
  indices: number[];
  distances: number[];
}

export type Metric = 'cosine' | 'euclidean';

export interface AxisQuery {
  column: string;
  text: string;
  regex: boolean;
}

export interface CustomProjectionRequest {
  left: AxisQuery;
  right: AxisQuery;
  up: AxisQuery;
  down: AxisQuery;
  spherize: boolean;
}

/**
 * A status as the job engine may word it (`id` for `job`, `paused` beside a running state):
 * the client reads both.
 */
export function normalizeStatus(raw: JobStatus & { id?: string; paused?: boolean }): JobStatus {
  const status = { ...raw, job: raw.job ?? raw.id ?? '' };
  if (raw.paused && status.state === 'running') status.state = 'paused';
  return status;
}

/** A job has ended when its state is one of these. */
export const FINAL_JOB_STATES: readonly JobState[] = ['done', 'failed', 'cancelled'];
