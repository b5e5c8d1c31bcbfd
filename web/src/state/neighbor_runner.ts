// Nearest neighbours of the selection in the original space: exact, from the server (or
// computed in the page for vectors loaded there).

import { neighborsOfRows, spherize } from '../data/local_compute';
import { api } from './api_instance';
import { app } from './app.svelte';

let serial = 0;

/** Neighbours of one selected point, or of the centroid of several. */
export async function updateNeighbors(): Promise<void> {
  const current = ++serial;
  const rows = app.selection;
  const embedding = app.embedding;
  if (rows.length === 0 || !embedding) {
    app.neighbors = null;
    return;
  }
  const { k, metric } = app.neighborSettings;
  const spherized = app.projection.spherize;
  try {
    const result = app.local
      ? neighborsOfRows(spherized ? spherize(app.local) : app.local, rows, k, metric)
      : await api.neighbors(embedding.id, rows, { k, metric, spherize: spherized });
    if (current !== serial) return;
    app.neighbors = {
      indices: Int32Array.from(result.indices),
      distances: Float64Array.from(result.distances),
      of: rows.length === 1 ? 'point' : 'centroid',
    };
  } catch (error) {
    if (current !== serial) return;
    app.neighbors = null;
    app.fail('Could not find the nearest neighbours', error);
  }
}
