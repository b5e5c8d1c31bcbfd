// Generated data for the renderer preview and its tests, until the page reads the server's API.

export type DemoLayout = 'clusters' | 'spiral' | 'grid';

export interface DemoData {
  n: number;
  dims: 2 | 3;
  positions: Float32Array;
  /** Cluster id of each point (a categorical column). */
  cluster: Int32Array;
  /** A numeric column: distance of the point from its cluster centre. */
  value: Float64Array;
}

export const DEMO_CLUSTERS = 12;

/** Deterministic PRNG (mulberry32): the same URL draws the same picture. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  // Box–Muller; 1 - random() avoids log(0).
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * N points in one of three layouts:
 * - clusters: DEMO_CLUSTERS Gaussian blobs of different sizes and spreads;
 * - spiral: the same clusters strung along a spiral (a second layout to animate to);
 * - grid: point i at (i mod side, floor(i / side)), z = 0 — a layout whose screen positions
 *   tests can predict.
 */
export function generateDemo(n: number, dims: 2 | 3, layout: DemoLayout, seed = 1): DemoData {
  const random = mulberry32(seed);
  const positions = new Float32Array(n * dims);
  const cluster = new Int32Array(n);
  const value = new Float64Array(n);
  const side = Math.ceil(Math.sqrt(n));
  const centers = Array.from({ length: DEMO_CLUSTERS }, () =>
    [0, 1, 2].map(() => (random() * 2 - 1) * 10),
  );
  const spreads = Array.from({ length: DEMO_CLUSTERS }, () => 0.6 + random() * 1.8);
  // Unequal cluster sizes, as in real data: weights 1 .. DEMO_CLUSTERS.
  const total = (DEMO_CLUSTERS * (DEMO_CLUSTERS + 1)) / 2;
  for (let i = 0; i < n; i++) {
    const u = random() * total;
    const c = Math.min(Math.floor((Math.sqrt(8 * u + 1) - 1) / 2), DEMO_CLUSTERS - 1);
    cluster[i] = c;
    const offset = [gaussian(random), gaussian(random), gaussian(random)].map((g) => g * spreads[c]!);
    value[i] = Math.hypot(...offset);
    let p: number[];
    if (layout === 'grid') {
      p = [i % side, Math.floor(i / side), 0];
    } else if (layout === 'spiral') {
      const angle = (c / DEMO_CLUSTERS) * 4 * Math.PI;
      const radius = 3 + c * 1.2;
      p = [radius * Math.cos(angle), radius * Math.sin(angle), c - DEMO_CLUSTERS / 2].map(
        (x, k) => x + offset[k]! * 0.35,
      );
    } else {
      p = centers[c]!.map((x, k) => x + offset[k]!);
    }
    for (let k = 0; k < dims; k++) positions[i * dims + k] = p[k]!;
  }
  return { n, dims, positions, cluster, value };
}

/**
 * The k points nearest to point `index` in the layout itself. Only for the preview: the app asks
 * the server for neighbours in the original high-dimensional space.
 */
export function nearestInLayout(data: DemoData, index: number, k: number): Int32Array {
  const { positions, dims, n } = data;
  const best: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    if (i === index) continue;
    let d = 0;
    for (let c = 0; c < dims; c++) d += (positions[i * dims + c]! - positions[index * dims + c]!) ** 2;
    if (best.length < k || d < best[best.length - 1]![0]) {
      best.push([d, i]);
      best.sort((a, b) => a[0] - b[0]);
      if (best.length > k) best.pop();
    }
  }
  return Int32Array.from(best, ([, i]) => i);
}

/** Sequence pairs linking each point to the next point of the same cluster (first `limit`). */
export function demoSequences(data: DemoData, limit: number): Int32Array {
  const last = new Map<number, number>();
  const pairs: number[] = [];
  for (let i = 0; i < Math.min(data.n, limit); i++) {
    const c = data.cluster[i]!;
    const previous = last.get(c);
    if (previous !== undefined) pairs.push(previous, i);
    last.set(c, i);
  }
  return Int32Array.from(pairs);
}
