// Compute for vectors loaded from a file in the browser (the server never saw them): spherize,
// PCA, exact neighbours and the custom projection, on the page's main thread. Meant for files a
// person picks by hand (thousands of rows); big sets are opened with `projector FILE`, where the
// server computes everything, t-SNE and UMAP included.

import type { Metric, NeighborsResult } from '../api/types';

export interface LocalVectors {
  vectors: Float32Array;
  n: number;
  d: number;
}

/** Subtract the centroid and scale each vector to unit length (zero vectors stay zero). */
export function spherize({ vectors, n, d }: LocalVectors): LocalVectors {
  const mean = centroid(vectors, n, d, null);
  const out = new Float32Array(vectors.length);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const x = vectors[i * d + j]! - mean[j]!;
      out[i * d + j] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j]! / norm;
  }
  return { vectors: out, n, d };
}

/** Mean of the rows (all rows, or those listed). */
export function centroid(vectors: Float32Array, n: number, d: number, rows: ArrayLike<number> | null): Float64Array {
  const mean = new Float64Array(d);
  const count = rows ? rows.length : n;
  for (let k = 0; k < count; k++) {
    const i = rows ? rows[k]! : k;
    for (let j = 0; j < d; j++) mean[j] = mean[j]! + vectors[i * d + j]!;
  }
  if (count > 0) for (let j = 0; j < d; j++) mean[j] = mean[j]! / count;
  return mean;
}

export interface LocalPca {
  /** N × components float32 scores. */
  scores: Float32Array;
  components: number;
  explainedVarianceRatio: number[];
}

/**
 * Principal components of the centred data by subspace iteration (block power method with
 * Gram–Schmidt): a few passes over the N × D data, no D × D matrix.
 */
export function pca({ vectors, n, d }: LocalVectors, wanted = 10, iterations = 40): LocalPca {
  const k = Math.max(1, Math.min(wanted, d, n));
  const mean = centroid(vectors, n, d, null);
  const x = new Float64Array(n * d);
  let total = 0;
  for (let i = 0; i < n * d; i++) {
    const v = vectors[i]! - mean[i % d]!;
    x[i] = v;
    total += v * v;
  }
  // Deterministic start: a shared layout must not depend on Math.random.
  let basis = Array.from({ length: k }, (_, c) => Float64Array.from({ length: d }, (_, j) => Math.sin((c + 1) * (j + 1) * 12.9898) + (j === c ? 1 : 0)));
  orthonormalize(basis);
  const projected = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    basis = basis.map((v) => {
      // v ← Xᵀ X v
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += x[i * d + j]! * v[j]!;
        projected[i] = s;
      }
      const next = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        const s = projected[i]!;
        for (let j = 0; j < d; j++) next[j] = next[j]! + x[i * d + j]! * s;
      }
      return next;
    });
    orthonormalize(basis);
  }
  const scores = new Float32Array(n * k);
  const variance = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const v = basis[c]!;
      let s = 0;
      for (let j = 0; j < d; j++) s += x[i * d + j]! * v[j]!;
      scores[i * k + c] = s;
      variance[c] = variance[c]! + s * s;
    }
  }
  return { scores, components: k, explainedVarianceRatio: variance.map((v) => (total > 0 ? v / total : 0)) };
}

function orthonormalize(basis: Float64Array[]): void {
  basis.forEach((v, c) => {
    for (let p = 0; p < c; p++) {
      const u = basis[p]!;
      let dot = 0;
      for (let j = 0; j < v.length; j++) dot += v[j]! * u[j]!;
      for (let j = 0; j < v.length; j++) v[j] = v[j]! - dot * u[j]!;
    }
    let norm = 0;
    for (let j = 0; j < v.length; j++) norm += v[j]! * v[j]!;
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < v.length; j++) v[j] = v[j]! / norm;
  });
}

/** Columns `components` of the PCA scores, as an N × components.length layout. */
export function pickComponents(result: LocalPca, components: readonly number[], n: number): Float32Array {
  const out = new Float32Array(n * components.length);
  for (let i = 0; i < n; i++) {
    components.forEach((c, k) => {
      out[i * components.length + k] = c < result.components ? result.scores[i * result.components + c]! : 0;
    });
  }
  return out;
}

/** Exact k nearest rows of a query vector (rows in `exclude` skipped), nearest first. */
export function nearest(
  { vectors, n, d }: LocalVectors,
  query: ArrayLike<number>,
  k: number,
  metric: Metric,
  exclude: ReadonlySet<number>,
): NeighborsResult {
  let qNorm = 0;
  for (let j = 0; j < d; j++) qNorm += query[j]! * query[j]!;
  qNorm = Math.sqrt(qNorm);
  const distances = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    let norm = 0;
    let squared = 0;
    for (let j = 0; j < d; j++) {
      const v = vectors[i * d + j]!;
      dot += v * query[j]!;
      norm += v * v;
      squared += (v - query[j]!) ** 2;
    }
    distances[i] = metric === 'euclidean' ? Math.sqrt(squared) : norm > 0 && qNorm > 0 ? 1 - dot / Math.sqrt(norm) / qNorm : 1;
  }
  const order = Array.from({ length: n }, (_, i) => i)
    .filter((i) => !exclude.has(i))
    .sort((a, b) => distances[a]! - distances[b]! || a - b)
    .slice(0, k);
  return { indices: order, distances: order.map((i) => distances[i]!) };
}

/** Neighbours of one row, or of the centroid of several. */
export function neighborsOfRows(data: LocalVectors, rows: ArrayLike<number>, k: number, metric: Metric): NeighborsResult {
  return nearest(data, centroid(data.vectors, data.n, data.d, rows), k, metric, new Set(Array.from(rows)));
}

/**
 * TensorBoard's custom projection: x along centroid(right) − centroid(left), y along
 * centroid(up) − centroid(down), each direction of unit length.
 */
export function customProjection(
  { vectors, n, d }: LocalVectors,
  rows: { left: Int32Array; right: Int32Array; up: Int32Array; down: Int32Array },
): Float32Array {
  const direction = (from: Int32Array, to: Int32Array): Float64Array => {
    const a = centroid(vectors, n, d, from);
    const b = centroid(vectors, n, d, to);
    const dir = b.map((v, j) => v - a[j]!);
    const norm = Math.sqrt(dir.reduce((s, v) => s + v * v, 0)) || 1;
    return dir.map((v) => v / norm);
  };
  const xDir = direction(rows.left, rows.right);
  const yDir = direction(rows.down, rows.up);
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    let x = 0;
    let y = 0;
    for (let j = 0; j < d; j++) {
      x += vectors[i * d + j]! * xDir[j]!;
      y += vectors[i * d + j]! * yDir[j]!;
    }
    out[i * 2] = x;
    out[i * 2 + 1] = y;
  }
  return out;
}
