// Reading the map: the faithfulness of every finished layout (asked of the server once the
// layout is on screen, computed in a worker), clusters on demand ("Find clusters"), and the
// selected point's missing neighbours. Both readings become columns, so that colour, label,
// search, isolate and export take them like any metadata column.

import { followJob } from '../api/job_stream';
import type { JobSubscription } from '../api/job_stream';
import { isActive } from '../api/types';
import type { JobStatus } from '../api/types';
import { numericColumn, textColumn } from '../data/columns';
import type { Column } from '../data/columns';
import { api } from './api_instance';
import { afterPaint } from './after_paint';
import { app } from './app.svelte';
import { CLUSTER_COLUMN, FAITHFULNESS_COLUMN, missingIn } from './map_reading';
import type { AnalysisState, ClustersResult, FaithfulnessResult, LayoutSource } from './map_reading';

type Kind = 'faithfulness' | 'clusters';

const following: Record<Kind, { serial: number; subscription: JobSubscription | null; job: string | null }> = {
  faithfulness: { serial: 0, subscription: null, job: null },
  clusters: { serial: 0, subscription: null, job: null },
};

/** A finished layout is shown: forget the readings of the previous one, measure this one. */
export function layoutFinished(source: LayoutSource | null): void {
  app.layoutSource = source;
  stop('clusters');
  app.clusters = null;
  app.missingNeighbors = null;
  setColumn(CLUSTER_COLUMN, null);
  void measureFaithfulness();
}

/** Faithfulness of the layout shown, for the current k, metric and space. */
export async function measureFaithfulness(): Promise<void> {
  const source = app.layoutSource;
  const embedding = app.embedding;
  stop('faithfulness');
  app.faithfulness = null;
  setColumn(FAITHFULNESS_COLUMN, null);
  // Above the level-of-detail threshold the exact neighbours of every point take many
  // minutes of the workers: not started by itself after each layout.
  if (!source || !embedding || app.local || app.large) return;
  const request = {
    ...source,
    k: app.faithfulnessK,
    metric: app.neighborSettings.metric,
    spherize: app.projection.spherize,
  };
  await run('faithfulness', () => api.startFaithfulness(embedding.id, request), async (status) => {
    const values = await api.jobResult(status.id);
    const summary = status.summary;
    if (!summary || !('mean' in summary)) throw new Error('the server sent no summary');
    // Shares of k, as the server counted them (not float32's 0.10000000149).
    const shares = Float64Array.from(values, (v) => Math.round(v * summary.k) / summary.k);
    setColumn(FAITHFULNESS_COLUMN, numericColumn(FAITHFULNESS_COLUMN, shares));
    return { values, summary } satisfies FaithfulnessResult;
  });
}

/** "Find clusters": HDBSCAN on the layout shown, named by the label column. */
export async function findClusters(minClusterSize: number | null): Promise<void> {
  const source = app.layoutSource;
  const embedding = app.embedding;
  if (!source || !embedding || app.local) return;
  const nameColumn = namingColumn();
  const request = { ...source, min_cluster_size: minClusterSize, name_column: nameColumn };
  await run('clusters', () => api.startClusters(embedding.id, request), async (status) => {
    const labels = await api.jobLabels(status.id);
    const summary = status.summary;
    if (!summary || !('names' in summary)) throw new Error('the server sent no summary');
    setColumn(CLUSTER_COLUMN, clusterColumn(labels));
    return { labels, summary } satisfies ClustersResult;
  });
}

/**
 * The selected point's true neighbours (the server's exact k nearest, in the faithfulness's
 * space) that are not among its k nearest in the layout shown, farthest in the layout first.
 */
export async function updateMissingNeighbors(): Promise<void> {
  const faith = app.faithfulness;
  const layout = app.layout;
  const embedding = app.embedding;
  app.missingNeighbors = null;
  if (app.selection.length !== 1 || faith?.state !== 'done' || !layout || !embedding) return;
  const point = app.selection[0]!;
  const { k } = faith.result.summary;
  const serial = following.faithfulness.serial;
  try {
    const original = await api.neighbors(embedding.id, [point], {
      k,
      metric: app.neighborSettings.metric,
      spherize: app.projection.spherize,
    });
    if (serial !== following.faithfulness.serial || app.selection[0] !== point) return;
    app.missingNeighbors = missingIn(layout.positions, layout.dims, point, Int32Array.from(original.indices));
  } catch (error) {
    app.fail('Could not find the missing neighbours', error);
  }
}

async function run<T>(
  kind: Kind,
  start: () => Promise<JobStatus>,
  finish: (status: JobStatus) => Promise<T>,
): Promise<void> {
  stop(kind);
  const serial = ++following[kind].serial;
  const set = (value: AnalysisState<T>): void => {
    if (serial !== following[kind].serial) return;
    if (kind === 'faithfulness') app.faithfulness = value as AnalysisState<FaithfulnessResult>;
    else app.clusters = value as AnalysisState<ClustersResult>;
  };
  const onStatus = async (status: JobStatus): Promise<void> => {
    if (serial !== following[kind].serial) return;
    if (status.state === 'done') {
      try {
        set({ state: 'done', result: await finish(status) });
      } catch (error) {
        set({ state: 'failed', message: error instanceof Error ? error.message : String(error) });
      }
    } else if (status.state === 'failed' || status.state === 'cancelled') {
      set({ state: 'failed', message: status.error ?? status.message ?? status.state });
    } else {
      set({ state: 'running', progress: status.progress, message: status.message ?? 'computing' });
    }
  };
  set({ state: 'running', progress: 0, message: 'starting' });
  await afterPaint();
  if (serial !== following[kind].serial) return;
  let status: JobStatus;
  try {
    status = await start();
  } catch (error) {
    set({ state: 'failed', message: error instanceof Error ? error.message : String(error) });
    return;
  }
  if (serial !== following[kind].serial) return;
  following[kind].job = status.id;
  await onStatus(status);
  if (isActive(status)) {
    following[kind].subscription = followJob(api, status, { onStatus: (s) => void onStatus(s), onLayout: () => {} });
  }
}

/** Stop following a reading (a running one is cancelled: its layout is gone). */
function stop(kind: Kind): void {
  const current = following[kind];
  current.serial++;
  current.subscription?.close();
  current.subscription = null;
  if (current.job !== null) void api.cancelJob(current.job).catch(() => {});
  current.job = null;
}

/** The column a cluster is named by: the label column if it holds text, else the colour one. */
function namingColumn(): string | null {
  for (const name of [app.labelBy, app.colorBy]) {
    const column = app.column(name);
    if (column && column.kind !== 'numeric' && name !== CLUSTER_COLUMN) return column.name;
    if (column && column.kind === 'numeric' && column.integer && name !== FAITHFULNESS_COLUMN) return column.name;
  }
  return null;
}

/** The `cluster` column: the cluster number of each point as a category, -1 for noise. */
function clusterColumn(labels: Int32Array): Column {
  const column = textColumn(CLUSTER_COLUMN, Array.from(labels, String));
  return { ...column, kind: 'categorical' };
}

/** Add, replace or (null) remove a column the readings own. */
function setColumn(name: string, column: Column | null): void {
  const others = app.columns.filter((c) => c.name !== name);
  // Colour and label choices stay: the next layout's reading takes them up again.
  app.columns = column ? [...others, column] : others;
}
