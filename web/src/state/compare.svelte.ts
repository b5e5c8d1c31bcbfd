// Comparing the embedding shown (a) with another embedding of the same items (b: another run or
// tensor, or one of the steps of either, e.g. an earlier checkpoint of a itself): the server
// pairs their rows and computes, per point, the overlap of its k nearest neighbours in the two
// spaces (POST /api/compare). The page shows b's own projection beside a's, both plots linked
// through the one store (selection, hover, colours, search): b's layout and b's neighbours are
// put in a's row numbers here, so every per-point array of the app applies to both plots.

import { followJob } from '../api/job_stream';
import type { JobSubscription } from '../api/job_stream';
import { isActive } from '../api/types';
import type { CompareSide, Comparison, EmbeddingInfo, JobStatus, Metric, StepInfo } from '../api/types';
import { numericColumn } from '../data/columns';
import type { Dims } from '../render';
import { api } from './api_instance';
import { app } from './app.svelte';
import type { Layout, Neighbors } from './app.svelte';
import { inOrder, inverseOrder, rankByOverlap } from './compare_rows';
import { requestOf } from './method_params';
import type { ProjectionSettings } from './view_state';

/** The colour-by column holding each point's overlap. */
export const OVERLAP_COLUMN = 'k-NN overlap';
export const DEFAULT_COMPARE_K = 10;

/** What can be compared with the embedding shown: an embedding's own vectors (`step` null),
 *  or one of its steps. */
export interface CompareTarget {
  info: EmbeddingInfo;
  step: StepInfo | null;
}

/** `run / name`, and the step's label (`words (ckpt-1)`). */
export function targetName(info: EmbeddingInfo, step: StepInfo | null = null): string {
  const name = info.run === '.' ? info.name : `${info.run} / ${info.name}`;
  return step ? `${name} (${step.label})` : name;
}

/** The targets of one embedding: its own vectors (unless it is `shown`), and each of its
 *  other steps that can be read. */
export async function targetsOf(info: EmbeddingInfo, shown: EmbeddingInfo | null): Promise<CompareTarget[]> {
  const own: CompareTarget[] = info === shown ? [] : [{ info, step: null }];
  if (info.steps < 2) return own;
  const listing = await api.steps(info.id);
  return [...own, ...listing.steps.filter((s) => !s.default && s.available).map((step) => ({ info, step }))];
}

class CompareStore {
  /** The embedding compared with the one shown; null: no comparison. */
  other = $state.raw<EmbeddingInfo | null>(null);
  /** Which of its steps; null: its own vectors. */
  otherStep = $state.raw<StepInfo | null>(null);
  /** The two sides' names, shown over their plots. */
  names = $state.raw<[string, string]>(['', '']);
  /** The embedding shown when the comparison started (another one ends it). */
  base = $state.raw<EmbeddingInfo | null>(null);
  k = $state(DEFAULT_COMPARE_K);
  metric = $state<Metric>('cosine');
  comparison = $state.raw<Comparison | null>(null);
  job = $state.raw<JobStatus | null>(null);
  /** Per row of a: the Jaccard index of its k-NN sets in a and in b. */
  overlap = $state.raw<Float32Array | null>(null);
  /** Per row of a: the row of b that is the same item. */
  order = $state.raw<Int32Array | null>(null);
  /** b's projection, in a's row order. */
  layout = $state.raw<Layout | null>(null);
  layoutStatus = $state.raw<JobStatus | null>(null);
  /** The selection's neighbours in b's space, as rows of a. */
  neighbors = $state.raw<Neighbors | null>(null);
  error = $state<string | null>(null);
  /** The list of points: least stable first (true) or most stable first. */
  leastFirst = $state(true);

  get active(): boolean {
    return this.other !== null;
  }

  /** Every row of a, by overlap (least stable first, or most), ties by row. */
  readonly ranked: Int32Array = $derived.by(() => rankByOverlap(this.overlap, this.leastFirst));
}

export const compare = new CompareStore();

let serial = 0;
let overlapJob: JobSubscription | null = null;
let layoutJob: JobSubscription | null = null;
let neighborSerial = 0;

const side = (info: EmbeddingInfo, step: StepInfo | null = null): CompareSide => ({ embedding: info.id, step: step?.index ?? null });

/** Compare the embedding shown with `target`: pair the rows, start the overlap, project b. */
export async function startCompare(target: CompareTarget): Promise<void> {
  const base = app.embedding;
  const { info: other, step } = target;
  if (!base || app.local || (other === base && step === null)) return;
  const current = ++serial;
  closeJobs();
  Object.assign(compare, { other, otherStep: step, base, comparison: null, job: null, overlap: null, order: null });
  Object.assign(compare, { layout: null, layoutStatus: null, neighbors: null, error: null });
  // Two steps of one embedding: say which step a is too (its own vectors are its latest).
  compare.names = [targetName(base), targetName(other, step)];
  removeOverlapColumn();
  try {
    if (other === base) {
      const own = await defaultStep(base);
      if (current !== serial) return;
      compare.names = [targetName(base, own), compare.names[1]];
    }
    const b = side(other, step);
    const order = await api.compareAlignment(side(base), b);
    if (current !== serial) return;
    compare.order = order;
    const started = await api.compare({ a: side(base), b, k: compare.k, metric: compare.metric });
    if (current !== serial) return;
    compare.comparison = started;
    onOverlapStatus(started.job, current);
    if (isActive(started.job)) {
      overlapJob = followJob(api, started.job, { onStatus: (s) => onOverlapStatus(s, current), onLayout: () => {} });
    }
  } catch (error) {
    if (current === serial) compare.error = error instanceof Error ? error.message : String(error);
    return;
  }
  void projectOther();
  void updateOtherNeighbors();
}

async function defaultStep(info: EmbeddingInfo): Promise<StepInfo | null> {
  const listing = await api.steps(info.id);
  return listing.steps[listing.default] ?? null;
}

/** End the comparison: one plot again, the overlap column gone. */
export function stopCompare(): void {
  serial++;
  const job = compare.job;
  if (job && isActive(job)) void api.cancelJob(job.id).catch(() => undefined);
  closeJobs();
  Object.assign(compare, { other: null, otherStep: null, base: null, comparison: null, job: null, overlap: null, order: null });
  Object.assign(compare, { layout: null, layoutStatus: null, neighbors: null, error: null, names: ['', ''] });
  removeOverlapColumn();
}

function closeJobs(): void {
  overlapJob?.close();
  layoutJob?.close();
  overlapJob = layoutJob = null;
}

function onOverlapStatus(status: JobStatus, current: number): void {
  if (current !== serial) return;
  compare.job = status;
  if (status.state === 'failed') compare.error = `The overlap failed: ${status.error ?? 'no reason given'}`;
  if (status.state === 'done') void fetchOverlap(status, current);
}

async function fetchOverlap(status: JobStatus, current: number): Promise<void> {
  try {
    const overlap = await api.jobResult(status.id);
    if (current !== serial) return;
    compare.overlap = overlap;
    // Four decimals: the float32 1/3 reads 0.3333, not 0.3333333432674408.
    const column = numericColumn(OVERLAP_COLUMN, Float64Array.from(overlap, (v) => Math.round(v * 1e4) / 1e4));
    app.columns = [...app.columns.filter((c) => c.name !== OVERLAP_COLUMN), column];
    app.categorical = false;
    app.colorBy = OVERLAP_COLUMN;
  } catch (error) {
    if (current === serial) compare.error = `The overlap could not be read: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function removeOverlapColumn(): void {
  if (!app.columns.some((c) => c.name === OVERLAP_COLUMN)) return;
  app.columns = app.columns.filter((c) => c.name !== OVERLAP_COLUMN);
  if (app.colorBy === OVERLAP_COLUMN) {
    app.colorBy = null;
    app.categorical = null;
  }
}

/** b's own projection, of the kind and dimensions a shows (the custom projection: PCA). */
export async function projectOther(): Promise<void> {
  const { other, otherStep, order } = compare;
  if (!other || !order) return;
  const current = serial;
  layoutJob?.close();
  const shown = $state.snapshot<ProjectionSettings>(app.projection);
  const settings: ProjectionSettings = shown.kind === 'custom' ? { ...shown, kind: 'pca' } : shown;
  const kind = settings.kind as Exclude<ProjectionSettings['kind'], 'custom'>;
  const dims: Dims = settings[kind].dims;
  const show = (positions: Float32Array): void => {
    if (current !== serial || positions.length !== order.length * dims) return;
    compare.layout = { positions: inOrder(positions, dims, order), dims, kind, transition: { durationMs: 300, easing: 'linear' } };
  };
  const onStatus = (status: JobStatus): void => {
    if (current !== serial) return;
    compare.layoutStatus = status;
    if (status.state === 'done') void api.jobResult(status.id).then(show, (error: unknown) => app.fail('The compared projection', error));
    if (status.state === 'failed') compare.error = `The projection of ${targetName(other, otherStep)} failed: ${status.error ?? 'no reason given'}`;
  };
  try {
    const status = await api.submitProjection(other.id, requestOf(settings), otherStep?.index ?? null);
    onStatus(status);
    if (isActive(status)) layoutJob = followJob(api, status, { onStatus, onLayout: show });
  } catch (error) {
    if (current === serial) compare.error = `The projection of ${targetName(other, otherStep)} could not start: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The selection's neighbours in b's space (as rows of a), as the inspector lists a's. */
export async function updateOtherNeighbors(): Promise<void> {
  const current = ++neighborSerial;
  const { other, otherStep, order } = compare;
  const rows = app.selection;
  if (!other || !order || rows.length === 0) {
    compare.neighbors = null;
    return;
  }
  const { k, metric } = app.neighborSettings;
  try {
    const ofB = Int32Array.from(rows, (i) => order[i]!);
    const found = await api.neighbors(other.id, ofB, { k, metric, spherize: app.projection.spherize }, otherStep?.index ?? null);
    if (current !== neighborSerial || compare.order !== order) return;
    const inverse = inverseOrder(order);
    compare.neighbors = {
      indices: Int32Array.from(found.indices, (j) => inverse[j]!),
      distances: Float64Array.from(found.distances),
      of: rows.length === 1 ? 'point' : 'centroid',
    };
  } catch (error) {
    if (current === neighborSerial) app.fail(`Could not find the nearest neighbours in ${targetName(other, otherStep)}`, error);
  }
}
