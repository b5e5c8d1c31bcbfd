// Files chosen in the page: a metadata TSV for the embedding shown, or a vectors TSV that
// becomes an embedding of its own (computed in the page: PCA, custom, neighbours).

import type { EmbeddingInfo } from '../api/types';
import { numericColumn } from '../data/columns';
import { fitMetadata, parseMetadataTsv, parseVectorsTsv } from '../data/tsv';
import { app } from './app.svelte';
import { resetForEmbedding, setColumns } from './loading';
import { pcaComponents } from './method_params';
import { runProjection, stopFollowing } from './projection_runner.svelte';
import { fitToShape } from './view_state';

export async function loadMetadataFile(file: File): Promise<void> {
  try {
    const { columns, warning } = fitMetadata(parseMetadataTsv(await file.text()), app.n);
    if (warning) app.addBanner('warning', `${file.name}: ${warning}`);
    setColumns(columns);
    app.metadataEdited = true;
  } catch (error) {
    app.fail(`Could not load ${file.name}`, error);
  }
}

export async function loadVectorsFile(file: File): Promise<void> {
  try {
    const parsed = parseVectorsTsv(await file.text(), file.name);
    await stopFollowing();
    const info: EmbeddingInfo = {
      id: `local:${file.name}`,
      run: 'loaded in the page',
      name: file.name,
      tensor_name: file.name,
      shape: [parsed.n, parsed.d],
      dtype: 'float32',
      columns: [],
      has_sprite: false,
      sprite: null,
      bookmarks: 0,
      steps: 1,
      warnings: [],
    };
    resetForEmbedding(info);
    app.local = parsed;
    // Without metadata a point is known by its row, as the server does for its embeddings.
    setColumns([numericColumn('index', Float64Array.from({ length: parsed.n }, (_, i) => i))]);
    app.projection = fitToShape({ ...$state.snapshot(app.projection), kind: app.projection.kind === 'custom' ? 'custom' : 'pca' }, info.shape, pcaComponents(app.config));
    await runProjection();
  } catch (error) {
    app.fail(`Could not load ${file.name}`, error);
  }
}
