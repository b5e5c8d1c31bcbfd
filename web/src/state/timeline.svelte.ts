// A training timeline: the steps of the embedding shown (its checkpoints), projected by one
// server job so that they morph into each other, a step slider that interpolates between them,
// play, and the drift of every point (neighbours kept from the previous step and from the last)
// as colours and as the list of the points that moved most.

import { followJob } from '../api/job_stream';
import type { JobSubscription } from '../api/job_stream';
import { isActive } from '../api/types';
import type { EmbeddingInfo, JobStatus, StepInfo, TimelineStarted } from '../api/types';
import { numericColumn } from '../data/columns';
import { computeBounds, lerpArray } from '../render';
import type { Bounds, Dims } from '../render';
import { api } from './api_instance';
import { app } from './app.svelte';
import { requestOf } from './method_params';
import type { ProjectionKind, ProjectionSettings } from './view_state';

/** Seconds per step while playing. */
export const PLAY_SECONDS_PER_STEP = 1.2;
/** The "Color by" choices drift adds (page-computed columns). */
export const DRIFT_PREVIOUS = 'drift: neighbours kept from the previous step';
export const DRIFT_LAST = 'drift: neighbours kept from the last step';
/** Neighbours per point that drift compares (the server's default). */
export const DRIFT_K = 10;
/** Points listed as those that moved most. */
export const MOVED_MOST = 20;

export interface LeftOutStep {
  index: number;
  label: string;
  message: string;
}

/** One timeline job's steps as they arrive. */
interface Series {
  job: JobStatus;
  /** Embedding step index of each of the job's steps. */
  steps: number[];
  frames: (Float32Array | null)[];
  /** Steps whose final result is held (streamed layouts before it are intermediate). */
  final: Set<number>;
  subscription: JobSubscription | null;
}

class TimelineStore {
  /** The steps of the embedding shown (one, itself, for most embeddings). */
  steps = $state.raw<StepInfo[]>([]);
  leftOut = $state.raw<LeftOutStep[]>([]);
  /** Embedding step index of each step of the timeline. */
  included = $state.raw<number[]>([]);
  /** Layout of each timeline step (N × dims), null until it arrives; replaced, never mutated. */
  frames = $state.raw<(Float32Array | null)[]>([]);
  job = $state.raw<JobStatus | null>(null);
  dims = $state<Dims>(2);
  kind = $state<ProjectionKind>('pca');
  /** Where the slider is: a timeline step, fractional between two. */
  position = $state(0);
  playing = $state(false);
  /** The plot shows the timeline (the slider was moved or play pressed). */
  engaged = $state(false);
  /** Drift of each step (N × 2: kept from the previous step, from the last), once computed. */
  drift = $state.raw<(Float32Array | null)[]>([]);
  driftJob = $state.raw<JobStatus | null>(null);
  error = $state<string | null>(null);

  get count(): number {
    return this.included.length;
  }

  /** The timeline step the slider is nearest to. */
  get current(): number {
    return Math.round(this.position);
  }

  /** The embedding's step shown (or nearest), as the server lists it. */
  get currentStep(): StepInfo | null {
    return this.steps[this.included[this.current] ?? -1] ?? null;
  }
}

export const timeline = new TimelineStore();

let layoutSeries: Series | null = null;
let driftSeries: Series | null = null;
let serial = 0;
let frameBounds: Bounds | undefined;
let animation: number | null = null;
/** The step whose drift the "Color by" columns hold. */
let driftColumnsOf: number | null = null;

/** A new embedding is shown: forget the previous timeline, list this one's steps. */
export async function loadSteps(info: EmbeddingInfo): Promise<void> {
  ++serial;
  stopAll();
  timeline.steps = [];
  if (info.steps < 2) return;
  try {
    const listing = await api.steps(info.id);
    if (app.embedding === info) timeline.steps = listing.steps;
  } catch (error) {
    if (app.embedding === info) app.fail('Could not list the steps', error);
  }
}

/** The projection changed: compute its timeline (the plot keeps the plain projection until the
 * slider is touched). */
export async function startTimeline(info: EmbeddingInfo, settings: ProjectionSettings): Promise<void> {
  const mine = ++serial;
  stopAll();
  const kind = settings.kind;
  if (info.steps < 2 || kind === 'custom' || app.local) return;
  const request = requestOf(settings);
  let started: TimelineStarted;
  try {
    started = await api.submitTimeline(info.id, request);
  } catch (error) {
    if (mine === serial) timeline.error = error instanceof Error ? error.message : String(error);
    return;
  }
  if (mine !== serial) return;
  timeline.kind = kind;
  timeline.dims = request.dims ?? 2;
  timeline.included = started.steps;
  timeline.leftOut = started.left_out;
  timeline.position = started.steps.length - 1;
  layoutSeries = follow(started, mine, (series) => {
    timeline.job = series.job;
    timeline.frames = series.frames.slice();
    frameBounds = jointBounds(series.frames, timeline.dims);
    if (timeline.engaged) showPosition();
  });
}

/** Compute the drift of every point (once per embedding), for colours and the moved-most list. */
export async function ensureDrift(): Promise<void> {
  const info = app.embedding;
  if (!info || driftSeries || timeline.count < 2) return;
  const mine = serial;
  let started: TimelineStarted;
  try {
    started = await api.submitDrift(info.id, { k: DRIFT_K, metric: app.neighborSettings.metric });
  } catch (error) {
    app.fail('Could not compute the drift', error);
    return;
  }
  if (mine !== serial) return;
  driftSeries = follow(started, mine, (series) => {
    timeline.driftJob = series.job;
    timeline.drift = series.frames.slice();
    driftColumnsOf = null;
    updateDriftColumns();
  });
}

/** Move the slider to `position` (a timeline step, fractional between two) and draw it. */
export function seek(position: number): void {
  timeline.position = Math.min(Math.max(position, 0), Math.max(timeline.count - 1, 0));
  timeline.engaged = true;
  showPosition();
  updateDriftColumns();
}

/** Play from where the slider is (from the start when it is at the end) to the last step. */
export function play(): void {
  if (timeline.count < 2) return;
  if (timeline.position >= timeline.count - 1) seek(0);
  timeline.playing = true;
  let last = performance.now();
  const tick = (now: number): void => {
    if (!timeline.playing) return;
    const next = timeline.position + (now - last) / 1000 / PLAY_SECONDS_PER_STEP;
    last = now;
    seek(next);
    if (next >= timeline.count - 1) {
      timeline.playing = false;
      animation = null;
      return;
    }
    animation = requestAnimationFrame(tick);
  };
  animation = requestAnimationFrame(tick);
}

export function pause(): void {
  timeline.playing = false;
  if (animation !== null) cancelAnimationFrame(animation);
  animation = null;
}

/** The points whose neighbourhood changed most at the current step (fewest kept from the
 * previous step; at the first step, from the last), least kept first. */
export function movedMost(count = MOVED_MOST): { index: number; kept: number }[] {
  const drift = timeline.drift[timeline.current];
  if (!drift) return [];
  const column = timeline.current === 0 ? 1 : 0;
  const n = drift.length / 2;
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => Number.isFinite(drift[i * 2 + column]));
  order.sort((a, b) => drift[a * 2 + column]! - drift[b * 2 + column]! || a - b);
  return order.slice(0, count).map((index) => ({ index, kept: drift[index * 2 + column]! }));
}

// ---- internals ----------------------------------------------------------------------------

function follow(started: TimelineStarted, mine: number, changed: (series: Series) => void): Series {
  const series: Series = {
    job: started.job,
    steps: started.steps,
    frames: started.steps.map(() => null),
    final: new Set(),
    subscription: null,
  };
  const onStatus = (status: JobStatus): void => {
    if (mine !== serial) return;
    series.job = status;
    for (const step of status.steps_done ?? []) {
      if (series.final.has(step)) continue;
      series.final.add(step);
      void api.stepResult(status.id, step).then((frame) => {
        if (mine !== serial) return;
        series.frames[step] = frame;
        changed(series);
      }, (error: unknown) => app.fail(`Could not load step ${step}`, error));
    }
    if (status.state === 'failed') timeline.error = status.error ?? 'the timeline failed';
    changed(series);
  };
  onStatus(started.job);
  if (isActive(started.job)) {
    series.subscription = followJob(api, started.job, {
      onStatus,
      onLayout: (positions, _iteration, sample, step) => {
        // A live layout of a step still computed (t-SNE, UMAP); results come by onStatus. A
        // sample of a layout (above the LOD threshold) is not a step's frame: it waits for them.
        if (mine !== serial || sample !== null || step === null || series.final.has(step)) return;
        series.frames[step] = positions;
        changed(series);
      },
    });
  }
  return series;
}

function stopAll(): void {
  pause();
  for (const series of [layoutSeries, driftSeries]) {
    series?.subscription?.close();
    if (series && isActive(series.job)) void api.cancelJob(series.job.id).catch(() => undefined);
  }
  layoutSeries = driftSeries = null;
  frameBounds = undefined;
  Object.assign(timeline, {
    leftOut: [], included: [], frames: [], job: null, position: 0, engaged: false,
    drift: [], driftJob: null, error: null,
  });
  app.computed = [];
}

/** Bounds of every step held: one frame for all, so growth and drift show. */
function jointBounds(frames: (Float32Array | null)[], dims: Dims): Bounds | undefined {
  const held = frames.filter((f): f is Float32Array => f !== null);
  if (held.length === 0) return undefined;
  const all = held.map((f) => computeBounds(f, dims));
  return {
    min: [0, 1, 2].map((k) => Math.min(...all.map((b) => b.min[k]!))) as Bounds['min'],
    max: [0, 1, 2].map((k) => Math.max(...all.map((b) => b.max[k]!))) as Bounds['max'],
    count: all[0]!.count,
  };
}

/** Draw the slider's position: the two steps around it mixed, or the nearest one held. */
function showPosition(): void {
  const frames = timeline.frames;
  const below = Math.floor(timeline.position);
  const above = Math.min(below + 1, frames.length - 1);
  const a = frames[below] ?? null;
  const b = frames[above] ?? null;
  const t = timeline.position - below;
  const positions = a && b ? (t > 0 ? lerpArray(a, b, t) : a) : (a ?? b);
  if (!positions || positions.length !== app.n * timeline.dims) return;
  app.layout = { positions, dims: timeline.dims, kind: timeline.kind, transition: { durationMs: 0 }, frame: frameBounds };
}

/** The drift of the current step as "Color by" columns. */
function updateDriftColumns(): void {
  const drift = timeline.drift[timeline.current];
  if (!drift) {
    if (app.computed.length) app.computed = [];
    driftColumnsOf = null;
    return;
  }
  if (driftColumnsOf === timeline.current && app.computed.length) return;
  driftColumnsOf = timeline.current;
  const n = drift.length / 2;
  const previous = new Float64Array(n);
  const last = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    previous[i] = drift[i * 2]!;
    last[i] = drift[i * 2 + 1]!;
  }
  app.computed = [numericColumn(DRIFT_PREVIOUS, previous), numericColumn(DRIFT_LAST, last)];
}
