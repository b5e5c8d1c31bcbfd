import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ERROR_NOT_BOOKMARKS, makeBookmark, nextBookmarkLabel, parseBookmarks, restoreBookmark } from '../src/state/bookmarks';
import { cameraFromTensorBoard, cameraToTensorBoard, fromTensorBoard, toTensorBoard, TB_NO_COLOR } from '../src/state/tensorboard_state';
import type { TbState } from '../src/state/tensorboard_state';
import type { ServerConfig } from '../src/api/types';
import { resolvedParameters } from '../src/state/method_params';
import { defaultView } from '../src/state/view_state';

// A bookmarks file written by TensorBoard 2.21 for `tf2_two_embeddings_sprite` (100 × 32).
const fixture = readFileSync(new URL('./fixtures/tb_bookmarks_two_embeddings_sprite.json', import.meta.url), 'utf8');
const HEIGHT = 800;
// What the server answers to GET /api/config (written by scripts/api_contract.py).
const config = JSON.parse(readFileSync(new URL('./fixtures/server_config.json', import.meta.url), 'utf8')) as ServerConfig;

describe("TensorBoard's bookmark format", () => {
  const [state] = parseBookmarks(fixture) as [TbState];

  it('restores projection, colouring, labels and selection', () => {
    const { view, isolated } = fromTensorBoard(state, 100, HEIGHT);
    expect(view.projection.kind).toBe('pca');
    expect(view.projection.pca).toEqual({ components: [0, 1, 2], dims: 3 });
    expect(view.projection.umap.neighbors).toBe(15);
    expect(view.colorBy).toBe('class');
    expect(view.categorical).toBeNull();
    expect(view.labelBy).toBe('word');
    expect(view.selection).toEqual([0, 1, 2]);
    expect(isolated).toBeNull();
  });

  it('restores the saved per-point coordinates', () => {
    const { layout } = fromTensorBoard(state, 100, HEIGHT);
    expect(layout).not.toBeNull();
    expect(layout!.length).toBe(300);
    const first = state.projections![0]!;
    expect(Array.from(layout!.subarray(0, 3))).toEqual([first['pca-0'], first['pca-1'], first['pca-2']].map((x) => Math.fround(x!)));
  });

  it('turns its 3D camera into an orbit camera looking at the same target', () => {
    const { view } = fromTensorBoard(state, 100, HEIGHT);
    expect(view.camera?.mode).toBe('3d');
    if (view.camera?.mode !== '3d') return;
    expect(view.camera.target).toEqual([0, 0, 0]);
    // Position (1.5, 1.5, 1.5): 45° around the axis, 35.3° above the plane.
    expect(view.camera.rotationOrbit).toBeCloseTo(45, 5);
    expect(view.camera.rotationX).toBeCloseTo(35.264, 2);
  });

  it('converts cameras both ways', () => {
    const camera3d = { mode: '3d' as const, target: [0.1, 0, -0.2] as [number, number, number], zoom: 8, rotationOrbit: 30, rotationX: 20 };
    const back = cameraFromTensorBoard(cameraToTensorBoard(camera3d, HEIGHT), 3, HEIGHT);
    expect(back?.mode).toBe('3d');
    if (back?.mode !== '3d') return;
    expect(back.zoom).toBeCloseTo(8, 6);
    expect(back.rotationOrbit).toBeCloseTo(30, 6);
    expect(back.rotationX).toBeCloseTo(20, 6);
    expect(back.target.map((x) => Math.round(x * 1e6) / 1e6)).toEqual([0.1, 0, -0.2]);
    const camera2d = { mode: '2d' as const, target: [0.5, -0.5] as [number, number], zoom: 7.5 };
    const def = cameraToTensorBoard(camera2d, HEIGHT);
    expect(def.orthographic).toBe(true);
    expect(cameraFromTensorBoard(def, 2, HEIGHT)).toEqual({ mode: '2d', target: [0.5, -0.5], zoom: 7.5 });
  });

  it('maps indices of a filtered (isolated) state back to the full data set', () => {
    const filtered: TbState = {
      label: 'filtered',
      isSelected: false,
      selectedProjection: 'tsne',
      tSNEis3d: false,
      filteredPoints: [10, 20, 30],
      selectedPoints: [1],
      projections: [
        { 'tsne-0': 1, 'tsne-1': 2 },
        { 'tsne-0': 3, 'tsne-1': 4 },
        { 'tsne-0': 5, 'tsne-1': 6 },
      ],
    };
    const { view, layout, isolated } = fromTensorBoard(filtered, 40, HEIGHT);
    expect(isolated).toEqual([10, 20, 30]);
    expect(view.selection).toEqual([20]);
    expect(view.projection.tsne.dims).toBe(2);
    expect(Array.from(layout!.subarray(20 * 2, 20 * 2 + 2))).toEqual([3, 4]);
    expect(Number.isNaN(layout![0])).toBe(true);
  });

  it('writes every field TensorBoard reads, and reads its own output back', () => {
    const view = defaultView();
    view.projection.kind = 'umap';
    view.projection.umap = { dims: 2, neighbors: 25, minDist: 0.3, seed: 0 };
    view.selection = [5, 7];
    view.colorBy = '';
    view.labelBy = 'word';
    view.camera = { mode: '2d', target: [0, 0], zoom: 8 };
    const layout = Float32Array.from({ length: 20 }, (_, i) => i);
    const parameters = resolvedParameters(view.projection, config, 10);
    const written = toTensorBoard({ label: 'mine', view, shape: [10, 4], layout, isolated: null, tsneIteration: 0, plotHeight: HEIGHT, parameters });
    for (const key of ['label', 'isSelected', 'selectedProjection', 'dataSetDimensions', 'tSNEIteration', 'tSNEPerplexity', 'tSNELearningRate', 'tSNEis3d', 'umapIs3d', 'umapNeighbors', 'umapMinDist', 'pcaComponentDimensions', 'projections', 'selectedPoints', 'shuffledDataIndices', 'cameraDef', 'selectedColorOptionName', 'forceCategoricalColoring', 'selectedLabelOption', 'customXLeftText']) {
      expect(written).toHaveProperty(key);
    }
    expect(written.selectedColorOptionName).toBe(TB_NO_COLOR);
    // t-SNE was left at its defaults: TensorBoard gets the values they stand for on 10 points.
    expect(written.tSNEPerplexity).toBe(2);
    expect(written.projections![3]).toEqual({ 'umap-0': 6, 'umap-1': 7 });
    const read = fromTensorBoard(JSON.parse(JSON.stringify(written)) as TbState, 10, HEIGHT);
    expect(read.view.projection.kind).toBe('umap');
    expect(read.view.projection.umap).toMatchObject({ dims: 2, neighbors: 25, minDist: 0.3 });
    expect(read.view.selection).toEqual([5, 7]);
    expect(read.view.colorBy).toBe('');
    expect(read.view.camera).toEqual(view.camera);
    expect(Array.from(read.layout!)).toEqual(Array.from(layout));
  });
});

describe('our bookmarks', () => {
  it('restore exactly what they saved, camera and parameters included', () => {
    const view = defaultView();
    view.projection.kind = 'tsne';
    view.projection.tsne = { ...view.projection.tsne, perplexity: 17, learningRate: 'auto', seed: 3, dims: 2 };
    view.camera = { mode: '2d', target: [0.25, 0.5], zoom: 9.25 };
    view.selection = [2];
    view.colorBy = 'class';
    const layout = Float32Array.from({ length: 8 }, (_, i) => i / 2);
    const bookmark = makeBookmark({ label: 'State 0', view, shape: [4, 3], layout, isolated: [2, 3], tsneIteration: 120, plotHeight: HEIGHT, parameters: null });
    const restored = restoreBookmark(JSON.parse(JSON.stringify(bookmark)) as typeof bookmark, 4, HEIGHT);
    expect(restored.view.projection.tsne).toEqual(view.projection.tsne);
    expect(restored.view.camera).toEqual(view.camera);
    expect(restored.view.selection).toEqual([2]);
    expect(restored.view.colorBy).toBe('class');
    expect(restored.isolated).toEqual([2, 3]);
    expect(restored.tsneIteration).toBe(120);
    expect(Array.from(restored.layout!.subarray(4, 8))).toEqual([2, 2.5, 3, 3.5]);
  });

  it('leave out per-point coordinates of very large data sets', () => {
    const bookmark = makeBookmark({ label: 'big', view: defaultView(), shape: [1_000_000, 64], layout: new Float32Array(3_000_000), isolated: null, tsneIteration: 0, plotHeight: HEIGHT, parameters: null });
    expect(bookmark.projections).toEqual([]);
  });

  it('refuses files that are not a list of states', () => {
    expect(() => parseBookmarks('{"label": 1}')).toThrow(ERROR_NOT_BOOKMARKS);
    expect(() => parseBookmarks('not json')).toThrow(ERROR_NOT_BOOKMARKS);
  });

  it('names new bookmarks as TensorBoard does, without clashes', () => {
    expect(nextBookmarkLabel([])).toBe('State 0');
    expect(nextBookmarkLabel([{ label: 'State 1', isSelected: false }])).toBe('State 2');
  });
});
