// Running the selected projection: a server job (PCA, t-SNE, UMAP) followed to its end with
// its intermediate layouts, the custom projection, or — for vectors loaded in the page — the
// in-page PCA and custom projection.

import { followJob } from '../api/job_stream';
import type { JobSubscription } from '../api/job_stream';
import { isActive } from '../api/types';
import type { JobStatus, LayoutInfo } from '../api/types';
import { customProjection as localCustom, pca as localPca, pickComponents, spherize } from '../data/local_compute';
import type { LocalPca } from '../data/local_compute';
import { searchColumn } from '../data/search';
import type { LayoutTransition } from '../render';
import { layoutFinished } from './analyses.svelte';
import { api } from './api_instance';
import { app } from './app.svelte';
import type { Layout } from './app.svelte';
import { requestOf } from './method_params';
import { startTimeline } from './timeline.svelte';
import type { ProjectionSettings } from './view_state';

let subscription: JobSubscription | null = null;
/** The job whose result its stream sent (and the page showed): not asked for again. */
let resultStreamed: string | null = null;
/** Increases with every run: answers of an older run are dropped. */
let runSerial = 0;
let lastFrameAt = 0;
let localPcaCache: { source: object; spherized: boolean; result: LocalPca } | null = null;

export const NOTE_LOCAL_ONLY_PCA =
  't-SNE and UMAP run on the server, which does not have vectors loaded in the page. ' +
  'Open the file with `projector FILE` to compute them on all points.';
/** Shown where the layout would be when a projection failed (its reason is in a banner). */
export function noteFailed(kind: ProjectionSettings['kind']): string {
  return `${methodName(kind)} did not produce a layout (the reason is in the message over the plot). Change its settings and press Run, or choose another projection.`;
}
export const NOTE_CUSTOM_QUERIES = 'Type a search for each of Left, Right, Up and Down: x goes from Left to Right, y from Down to Up.';

/** Show the projection of `app.projection`, computing it where needed. */
export async function runProjection(): Promise<void> {
  const serial = ++runSerial;
  lastFrameAt = performance.now();
  // Awaited only when there is a job to cancel: an await yields to Svelte, which first
  // renders the page for the state set before (a fifth of a second on a first visit), and
  // the submission would wait for it.
  const stopping = stopFollowing();
  if (stopping) await stopping;
  const embedding = app.embedding;
  if (!embedding) return;
  const settings = $state.snapshot<ProjectionSettings>(app.projection);
  void startTimeline(embedding, settings);
  app.projectionNote = null;
  layoutFinished(null);
  if (app.local) {
    runLocal(settings);
    return;
  }
  if (settings.kind === 'custom') {
    await runCustom(settings, serial);
    return;
  }
  let status: JobStatus;
  try {
    status = await api.submitProjection(embedding.id, requestOf(settings));
  } catch (error) {
    if (serial === runSerial) {
      app.job = null;
      app.fail(`${methodName(settings.kind)} could not start`, error);
      app.projectionNote = noteFailed(settings.kind);
    }
    return;
  }
  if (serial !== runSerial) return;
  onStatus(status, serial);
  if (isActive(status)) {
    subscription = followJob(api, status, {
      onStatus: (s) => onStatus(s, serial),
      onLayout: (positions, _iteration, sample, _step, last) => {
        if (serial !== runSerial) return;
        if (last && !sample) {
          resultStreamed = status.id;
          showResult(positions, settings);
          return;
        }
        const now = performance.now();
        // Each frame animates over the time the previous one took: one continuous motion.
        const durationMs = Math.min(Math.max(now - lastFrameAt, 100), 1000);
        lastFrameAt = now;
        showLayout(positions, settings, { durationMs, easing: 'linear' }, sample ? { sample } : {});
      },
    });
  }
}

/**
 * Resolves once a layout is shown or a note says why none is, or after `timeoutMs`: what waits
 * for the first paint (the metadata columns not coloured by) starts then.
 */
export function layoutShown(timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    let stop: (() => void) | null = null;
    const done = (): void => {
      clearTimeout(timer);
      // Not from inside the effect that calls it.
      queueMicrotask(() => stop?.());
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    stop = $effect.root(() => {
      $effect(() => {
        if (app.layout || app.projectionNote) done();
      });
    });
  });
}

export function methodName(kind: ProjectionSettings['kind']): string {
  return { pca: 'PCA', tsne: 't-SNE', umap: 'UMAP', custom: 'The custom projection' }[kind];
}

function onStatus(status: JobStatus, serial: number): void {
  if (serial !== runSerial) return;
  app.job = status;
  if (status.explained_variance_ratio) app.explainedVariance = status.explained_variance_ratio;
  const settings = $state.snapshot<ProjectionSettings>(app.projection);
  if (status.state === 'failed') {
    app.addBanner('error', `${methodName(settings.kind)} failed: ${status.error ?? 'no reason given'}`);
    app.projectionNote = noteFailed(settings.kind);
  }
  if (status.state === 'done' || (status.state === 'cancelled' && !app.layout)) {
    void fetchResult(status, settings, serial);
  }
}

async function fetchResult(status: JobStatus, settings: ProjectionSettings, serial: number): Promise<void> {
  try {
    if (app.large) {
      // Too big for the page: the layout stays on the server, the plot loads its tiles.
      const server = await serverLayout(await api.jobLayout(status.id));
      if (serial === runSerial) showLayout(EMPTY_POSITIONS, settings, {}, { server });
      return;
    }
    if (resultStreamed !== status.id) {
      const label = `Loading the ${methodName(settings.kind)} layout`;
      const positions = await api.jobResult(status.id, (loaded, total) => {
        // Only big layouts take long enough to show (a million 3D points are 12 MB).
        if (total && total > 4_000_000) app.loading = { label, progress: loaded / total };
      });
      app.loading = null;
      if (serial !== runSerial) return;
      showResult(positions, settings);
    }
    if (status.state === 'done') layoutFinished({ job: status.id });
  } catch (error) {
    app.loading = null;
    // A job cancelled before its first layout has none (409): nothing to show.
    if (serial === runSerial && status.state !== 'cancelled') app.fail(`${methodName(settings.kind)} result`, error);
  }
}

const EMPTY_POSITIONS = new Float32Array(0);

/** A job's result shown: the end of a stream continues its motion, a result on its own eases in. */
function showResult(positions: Float32Array, settings: ProjectionSettings): void {
  const streamed = app.layout?.transition.easing === 'linear' && app.layout.kind === settings.kind;
  showLayout(positions, settings, streamed ? { durationMs: 400, easing: 'linear' } : {});
}

function showLayout(
  positions: Float32Array,
  settings: ProjectionSettings,
  transition: LayoutTransition,
  partial: Pick<Layout, 'server' | 'sample'> = {},
): void {
  const dims = settings.kind === 'custom' ? 2 : settings[settings.kind].dims;
  app.layout = { positions, dims, kind: settings.kind, transition, ...partial };
}

/** A layout registered on the server, with its tiles' index. */
async function serverLayout(info: LayoutInfo): Promise<NonNullable<Layout['server']>> {
  return { info, index: await api.tileIndex(info.id) };
}

async function runCustom(settings: ProjectionSettings, serial: number): Promise<void> {
  const { custom } = settings;
  const column = custom.column ?? app.columns[0]?.name ?? null;
  if (!column || [custom.left, custom.right, custom.up, custom.down].some((a) => a.text.trim() === '')) {
    app.projectionNote = NOTE_CUSTOM_QUERIES;
    return;
  }
  const axis = (a: { text: string; regex: boolean }): { column: string; text: string; regex: boolean } => ({ column, ...a });
  const request = {
    left: axis(custom.left),
    right: axis(custom.right),
    up: axis(custom.up),
    down: axis(custom.down),
    spherize: settings.spherize,
  };
  try {
    if (app.large) {
      const server = await serverLayout(await api.customLayout(app.embedding!.id, request));
      if (serial !== runSerial) return;
      showLayout(EMPTY_POSITIONS, settings, {}, { server });
      layoutFinished({ custom: request });
      return;
    }
    const positions = await api.customProjection(app.embedding!.id, request);
    if (serial !== runSerial) return;
    showLayout(positions, settings, {});
    layoutFinished({ custom: request });
  } catch (error) {
    if (serial === runSerial) app.fail('The custom projection failed', error);
  }
}

function runLocal(settings: ProjectionSettings): void {
  const local = app.local!;
  app.job = null;
  if (settings.kind === 'tsne' || settings.kind === 'umap') {
    app.projectionNote = NOTE_LOCAL_ONLY_PCA;
    return;
  }
  const data = settings.spherize ? spherize(local) : local;
  if (settings.kind === 'pca') {
    if (localPcaCache?.source !== local || localPcaCache.spherized !== settings.spherize) {
      localPcaCache = { source: local, spherized: settings.spherize, result: localPca(data) };
    }
    const { result } = localPcaCache;
    app.explainedVariance = result.explainedVarianceRatio;
    const components = settings.pca.components.slice(0, settings.pca.dims);
    showLayout(pickComponents(result, components, local.n), settings, {});
    return;
  }
  const column = app.column(settings.custom.column) ?? app.columns[0];
  const { left, right, up, down } = settings.custom;
  if (!column || [left, right, up, down].some((a) => a.text.trim() === '')) {
    app.projectionNote = NOTE_CUSTOM_QUERIES;
    return;
  }
  try {
    const rows = (a: { text: string; regex: boolean }): Int32Array => searchColumn(column, a.text, a.regex);
    showLayout(localCustom(data, { left: rows(left), right: rows(right), up: rows(up), down: rows(down) }), settings, {});
  } catch (error) {
    app.fail('The custom projection failed', error);
  }
}

/** Stop following the job shown; a job still computing is cancelled (its layout kept): the
 * cancellation under way, or null when there was nothing to cancel. */
export function stopFollowing(): Promise<void> | null {
  subscription?.close();
  subscription = null;
  const job = app.job;
  return job && isActive(job) ? cancelQuietly(job.id) : null;
}

async function cancelQuietly(job: string): Promise<void> {
  try {
    await api.cancelJob(job);
  } catch {
    // Already ended on the server: nothing to cancel.
  }
}

/** Stop: the running t-SNE or UMAP keeps its last layout. */
export async function stopJob(): Promise<void> {
  const job = app.job;
  if (!job || !isActive(job)) return;
  try {
    await api.cancelJob(job.id);
  } catch (error) {
    app.fail('Could not stop the job', error);
  }
}

export async function controlJob(action: 'pause' | 'resume' | 'perturb'): Promise<void> {
  const job = app.job;
  if (!job) return;
  try {
    const status = await api.controlJob(job.id, action);
    if (app.job?.id === status.id) app.job = status;
  } catch (error) {
    app.fail(`Could not ${action} t-SNE`, error);
  }
}

/** Run t-SNE or UMAP again from a new random start (a new seed: not the cached layout). */
export function rerun(): Promise<void> {
  const kind = app.projection.kind;
  if ((kind === 'tsne' || kind === 'umap') && app.config) {
    const settings = app.projection[kind];
    settings.seed = (settings.seed ?? app.config.seed) + 1;
  }
  return runProjection();
}
