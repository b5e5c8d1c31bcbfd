// Shapes of the HTTP API's JSON bodies (docs/api.md): names for the types generated from the
// server's OpenAPI document (`schema.d.ts`, from `openapi.json`; `make api-types` writes both).
// Binary answers are typed arrays.

import type { components, paths } from './schema';

type Schemas = components['schemas'];

export type ColumnInfo = Schemas['ColumnInfo'];
export type ColumnKind = ColumnInfo['kind'];
export type SpriteInfo = Schemas['SpriteInfo'];
export type EmbeddingInfo = Schemas['EmbeddingInfo'];
export type RunInfo = Schemas['RunInfo'];

export type ServerConfig = Schemas['ServerConfig'];
export type MethodInfo = Schemas['MethodInfo'];
export type ParamInfo = Schemas['ParamInfo'];
export type ProjectionMethod = keyof Schemas['Methods'];

export type ProjectionRequest =
  paths['/api/embeddings/{emb_id}/projections']['post']['requestBody']['content']['application/json'];
/** The parameters a method's request takes (the names the server declares). */
export type RequestParams<M extends ProjectionMethod> = NonNullable<Extract<ProjectionRequest, { method: M }>['params']>;

export type JobStatus = Schemas['JobStatus'];
export type JobState = JobStatus['state'];
/** WebSocket text frames of `jobs/{job}/stream`. */
export type StatusFrame = Schemas['StatusFrame'];
export type LayoutFrame = Schemas['LayoutFrame'];
export type ErrorFrame = Schemas['ErrorFrame'];

export type StepInfo = Schemas['StepInfo'];
export type StepList = Schemas['StepList'];
export type TimelineStarted = Schemas['TimelineStarted'];
export type DriftRequest = Schemas['DriftRequest'];

export type NeighborsResult = Schemas['Neighbors'];
export type LayoutInfo = Schemas['LayoutInfo'];
export type TileIndex = Schemas['TileIndex'];
export type SelectRequest = Schemas['SelectRequest'];
export type Metric = NonNullable<Schemas['NeighborQuery']['metric']>;
export type CustomProjectionRequest = Schemas['CustomRequest'];
export type FaithfulnessRequest = Schemas['FaithfulnessRequest'];
export type ClustersRequest = Schemas['ClustersRequest'];
export type FaithfulnessSummary = Schemas['FaithfulnessSummary'];
export type ClustersSummary = Schemas['ClustersSummary'];
export type CompareSide = Schemas['CompareSide'];
export type CompareRequest = Schemas['CompareRequest'];
export type Comparison = Schemas['Comparison'];

/** A job has ended when its state is one of these. */
export const FINAL_JOB_STATES: readonly JobState[] = ['done', 'failed', 'cancelled'];

/** Still computing (queued, running, paused, or stopping). */
export function isActive(status: JobStatus | null): boolean {
  return status !== null && !FINAL_JOB_STATES.includes(status.state);
}
