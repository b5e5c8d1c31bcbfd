// What the page knows of the readings of the map shown (faithfulness and clusters), and the
// pure functions over them.

import type { ClustersSummary, CustomProjectionRequest, FaithfulnessSummary } from '../api/types';

/** Neighbours compared per point, unless the user sets another number. */
export const DEFAULT_FAITHFULNESS_K = 10;
/** The metadata-like columns the readings add (colour, label, search, isolate, export). */
export const FAITHFULNESS_COLUMN = 'faithfulness';
export const CLUSTER_COLUMN = 'cluster';

/** The finished layout shown, as the server can find it again: its job, or a custom request. */
export type LayoutSource = { job: string } | { custom: CustomProjectionRequest };

/** A reading of the layout: under way (with its progress), failed (why), or its result. */
export type AnalysisState<T> =
  | { state: 'running'; progress: number; message: string }
  | { state: 'failed'; message: string }
  | { state: 'done'; result: T };

export interface FaithfulnessResult {
  values: Float32Array;
  summary: FaithfulnessSummary;
}

export interface ClustersResult {
  labels: Int32Array;
  summary: ClustersSummary;
}

/** The projection panel's line: "keeps 71 % of each point's 10 nearest neighbours; …". */
export function faithfulnessLine(summary: FaithfulnessSummary): string {
  const pct = (x: number): string => `${Math.round(x * 100)} %`;
  return `keeps ${pct(summary.mean)} of each point's ${summary.k} nearest neighbours; ` +
    `${pct(summary.below)} of points keep fewer than 30 %`;
}

/** The points of cluster `c`. */
export function clusterMembers(labels: Int32Array, c: number): Int32Array {
  const members: number[] = [];
  labels.forEach((label, i) => label === c && members.push(i));
  return Int32Array.from(members);
}

/** Those of `neighbours` that are not among the k nearest of `point` in the layout (k = their
 *  number; equal distances ordered by index, as the server does), farthest first. */
export function missingIn(positions: Float32Array, dims: number, point: number, neighbours: Int32Array): Int32Array {
  const n = positions.length / dims;
  const distance = (j: number): number => {
    let sum = 0;
    for (let d = 0; d < dims; d++) sum += (positions[j * dims + d]! - positions[point * dims + d]!) ** 2;
    return sum;
  };
  const rankOf = (j: number): number => {
    const dj = distance(j);
    let rank = 1;
    for (let i = 0; i < n; i++) {
      if (i === point || i === j) continue;
      const di = distance(i);
      if (di < dj || (di === dj && i < j)) rank++;
    }
    return rank;
  };
  const ranked = Array.from(neighbours, (j) => ({ j, rank: rankOf(j) }));
  return Int32Array.from(ranked.filter((r) => r.rank > neighbours.length).sort((a, b) => b.rank - a.rank).map((r) => r.j));
}
