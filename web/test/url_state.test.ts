import { describe, expect, it } from 'vitest';

import { decodeCamera, decodeView, encodeCamera, encodeView } from '../src/state/url_state';
import { defaultView } from '../src/state/view_state';

describe('URL state', () => {
  it('writes nothing for the default view', () => {
    expect(encodeView(defaultView())).toBe('');
  });

  it('round-trips embedding, projection parameters, selection, camera and columns', () => {
    const view = defaultView();
    view.embedding = 'KTfWO9ZhELLQ';
    view.projection.kind = 'tsne';
    view.projection.spherize = true;
    view.projection.tsne = { ...view.projection.tsne, dims: 2, perplexity: 12, learningRate: 200, iterations: 500, superviseColumn: 'class', superviseFactor: 0.3, seed: 4 };
    view.projection.pca = { components: [1, 3, 4], dims: 2 };
    view.projection.umap = { dims: 2, neighbors: 30, minDist: 0.25, seed: 1 };
    view.projection.custom = {
      column: 'word',
      left: { text: 'man', regex: false },
      right: { text: 'wom.n', regex: true },
      up: { text: 'king', regex: false },
      down: { text: 'queen', regex: false },
    };
    view.selection = [3, 1, 4];
    view.camera = { mode: '3d', target: [0.1, -0.2, 0.3], zoom: 8.5, rotationOrbit: 30, rotationX: 15 };
    view.colorBy = 'class';
    view.categorical = true;
    view.labelBy = 'word';
    view.compare = 'emb-2';
    view.compareStep = 0;
    view.dimsChosen = true;
    const hash = encodeView(view);
    expect(decodeView(`#${hash}`)).toEqual(view);
  });

  it('reads a compared step only with the embedding compared', () => {
    expect(decodeView('#compare=e&compare_step=3').compareStep).toBe(3);
    expect(decodeView('#compare=e&compare_step=-1').compareStep).toBeNull();
    expect(decodeView('#compare_step=3').compareStep).toBeNull();
  });

  it('says whether the link names a number of dimensions', () => {
    expect(decodeView('').dimsChosen).toBe(false);
    expect(decodeView('#projection=tsne&perplexity=20').dimsChosen).toBe(false);
    expect(decodeView('#umap_dims=3').dimsChosen).toBe(true);
  });

  it('keeps an explicit "no colour" apart from "not given"', () => {
    const none = { ...defaultView(), colorBy: '' };
    expect(decodeView(encodeView(none)).colorBy).toBe('');
    expect(decodeView('').colorBy).toBeNull();
  });

  it('falls back to defaults for values it cannot read', () => {
    const view = decodeView('#projection=nope&perplexity=abc&pca=1,2&select=1,x,-3,2&camera=3d:1,2');
    expect(view.projection.kind).toBe('pca');
    expect(view.projection.tsne.perplexity).toBeNull(); // the server's default
    expect(view.projection.pca.components).toEqual([0, 1, 2]);
    expect(view.selection).toEqual([1, 2]);
    expect(view.camera).toBeNull();
  });

  it('leaves very long selections out of the URL', () => {
    const view = { ...defaultView(), selection: Array.from({ length: 5000 }, (_, i) => i) };
    expect(encodeView(view)).not.toContain('select');
  });

  it('encodes cameras compactly', () => {
    const camera = { mode: '2d' as const, target: [0.123456, 2] as [number, number], zoom: 9 };
    expect(encodeCamera(camera)).toBe('2d:0.1235,2,9');
    expect(decodeCamera('2d:0.1235,2,9')).toEqual({ mode: '2d', target: [0.1235, 2], zoom: 9 });
  });
});

describe('fitting settings to a data set', () => {
  it('keeps PCA within the dimensions and leaves chosen parameters to the server', async () => {
    const { fitToShape, defaultProjection } = await import('../src/state/view_state');
    const small = fitToShape(defaultProjection(), [15, 2], 10);
    expect(small.pca).toEqual({ components: [0, 1, 2], dims: 2 });
    expect(small.tsne.perplexity).toBeNull(); // the server fits its default to N
    const chosen = fitToShape({ ...defaultProjection(), tsne: { ...defaultProjection().tsne, perplexity: 50 } }, [15, 8], 10);
    expect(chosen.tsne.perplexity).toBe(50);
    expect(fitToShape(defaultProjection(), [1000, 16], 2).pca.components).toEqual([0, 1, 2]);
    expect(fitToShape({ ...defaultProjection(), pca: { components: [5, 1, 0], dims: 3 } }, [1000, 16], 4).pca.components).toEqual([0, 1, 0]);
  });
});
