import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { ServerConfig } from '../src/api/types';
import { defaultFor, fittedOn, numberControl, paramInfo, pcaComponents, requestOf, resolvedTsne, resolvedUmap, runsOn } from '../src/state/method_params';
import { defaultProjection } from '../src/state/view_state';

// What the server answers to GET /api/config, written from the methods' records by
// scripts/api_contract.py (the build fails when it is out of date).
const config = JSON.parse(readFileSync(new URL('./fixtures/server_config.json', import.meta.url), 'utf8')) as ServerConfig;

describe("the page's projection controls come from the server's records", () => {
  it('takes defaults, ranges and steps from the served parameters', () => {
    const perplexity = numberControl(paramInfo(config, 'tsne', 'perplexity'), 1000);
    expect(perplexity).toEqual({ min: 2, max: 100, step: 1, value: 30 });
    const iterations = numberControl(paramInfo(config, 'tsne', 'n_iter'), 1000);
    expect(iterations).toEqual({ min: 1, max: 100_000, step: 50, value: 750 });
    const neighbors = numberControl(paramInfo(config, 'umap', 'n_neighbors'), 1000);
    expect(neighbors).toEqual({ min: 5, max: 50, step: 1, value: 15 });
    const minDist = numberControl(paramInfo(config, 'umap', 'min_dist'), 1000);
    expect(minDist).toEqual({ min: 0, max: 0.99, step: 0.01, value: 0.1 });
    expect(pcaComponents(config)).toBe(10);
    expect(pcaComponents(null)).toBe(0);
  });

  // The same N → perplexity pairs as tests/compute/test_methods.py: page and server agree.
  it.each([
    [8, 2],
    [10, 2],
    [30, 9],
    [90, 29],
    [91, 29],
    [92, 30],
    [1000, 30],
  ])('fits the default perplexity to %i points as the server does (%i)', (n, expected) => {
    const perplexity = paramInfo(config, 'tsne', 'perplexity');
    expect(defaultFor(perplexity, n)).toBe(expected);
    // Below the usual default, the slider ends where the default was lowered to.
    if (expected < 30) expect(numberControl(perplexity, n).max).toBe(expected);
  });

  it('fills in the defaults of settings left at null', () => {
    const p = defaultProjection();
    expect(resolvedTsne(p.tsne, config, 90)).toEqual({
      dims: 3,
      perplexity: 29,
      learningRate: 'auto',
      iterations: 750,
      superviseColumn: null,
      superviseFactor: 0.5,
      seed: config.seed,
    });
    expect(resolvedUmap(p.umap, config, 12)).toEqual({ dims: 3, neighbors: 11, minDist: 0.1, seed: config.seed });
    expect(resolvedTsne({ ...p.tsne, perplexity: 12 }, config, 90).perplexity).toBe(12);
  });

  it('sends only what was chosen: the server applies its own defaults', () => {
    const p = defaultProjection();
    expect(requestOf({ ...p, kind: 'tsne' })).toEqual({ method: 'tsne', dims: 3, spherize: false, params: {} });
    const chosen = { ...p, kind: 'tsne' as const, tsne: { ...p.tsne, perplexity: 12, seed: 4, superviseColumn: 'class' } };
    expect(requestOf(chosen)).toEqual({ method: 'tsne', dims: 3, seed: 4, spherize: false, params: { perplexity: 12, supervise_column: 'class' } });
    expect(requestOf({ ...p, kind: 'umap', umap: { ...p.umap, minDist: 0.3 } }).params).toEqual({ min_dist: 0.3 });
  });
});

describe('t-SNE and UMAP of many points are fitted on a sample, as the server does', () => {
  it('fits all points up to the threshold, the served sample above it', () => {
    expect(config.sample).toEqual({ above: 1_000_000, size: 100_000 });
    expect(fittedOn(config, 1_000_000)).toBeNull();
    expect(fittedOn(config, 1_000_001)).toBe(100_000);
  });

  it('says where it runs and on which points', () => {
    expect(runsOn(config, 5_000)).toBe('Runs on the server on all 5,000 points.');
    expect(runsOn({ ...config, cluster: true }, 1_100_000)).toBe(
      'Runs on the Dask cluster: fitted on 100,000 points drawn at random, then the other 1,000,000 placed into that layout.',
    );
  });
});
