// Opening the app and an embedding: what the server serves, the metadata (Arrow), the sprite,
// the bookmarks, the warnings; then the first projection, as the URL (or `--projection`) asks.

import type { EmbeddingInfo } from '../api/types';
import { columnsFromArrow } from '../data/arrow_columns';
import { defaultColorColumn, defaultLabelColumn } from '../data/columns';
import type { Column } from '../data/columns';
import { api } from './api_instance';
import { EMPTY_INDICES, app } from './app.svelte';
import type { Bookmark } from './bookmarks';
import { runProjection } from './projection_runner.svelte';
import { loadSteps } from './timeline.svelte';
import { pcaComponents } from './method_params';
import { decodeView } from './url_state';
import { fitToShape, isProjectionKind } from './view_state';
import type { ViewState } from './view_state';

/**
 * Load what the server serves and show its first embedding as `view` asks; `projectionChosen`:
 * the view names its projection (else the server's `--projection` applies).
 */
export async function startApp(view: ViewState, projectionChosen: boolean): Promise<void> {
  try {
    const [config, runs, embeddings] = await Promise.all([api.config(), api.runs(), api.embeddings()]);
    app.config = config;
    app.runs = runs;
    app.embeddings = embeddings;
    // `projector --projection`: the projection to show first, unless the link names one.
    if (!projectionChosen && isProjectionKind(config.projection)) {
      view.projection.kind = config.projection;
    }
    for (const run of runs) for (const warning of run.warnings) app.addBanner('warning', runWarning(run.name, warning));
    const first = embeddings.find((e) => e.id === view.embedding) ?? embeddings[0];
    if (!first) {
      app.addBanner('warning', 'No embeddings were found. Check the path given to `projector` (a log dir needs a projector_config.pbtxt or a checkpoint).');
      return;
    }
    await openEmbedding(first, view);
  } catch (error) {
    app.fail('Could not load the data from the server', error);
  }
}

function runWarning(run: string, warning: string): string {
  return run === '.' || run === '' ? warning : `Run "${run}": ${warning}`;
}

/** Show an embedding of the server; `view` (a link, a bookmark) sets what is shown first. */
export async function openEmbedding(info: EmbeddingInfo, view: ViewState = decodeView('')): Promise<void> {
  resetForEmbedding(info);
  app.projection = fitToShape(view.projection, info.shape, pcaComponents(app.config));
  for (const warning of info.warnings) app.addBanner('warning', warning, info.id);
  try {
    app.loading = { label: 'Loading metadata', progress: null };
    const table = await api.metadata(info.id, (loaded, total) => {
      app.loading = { label: 'Loading metadata', progress: total ? loaded / total : null };
    });
    if (app.embedding !== info) return;
    setColumns(columnsFromArrow(table, info.columns), view);
  } catch (error) {
    app.fail('Could not load the metadata', error);
  } finally {
    app.loading = null;
  }
  app.selection = Int32Array.from(view.selection.filter((i) => i < info.shape[0]));
  pendingCamera = view.camera;
  void loadSprite(info);
  void loadBookmarks(info);
  await runProjection();
}

/** The camera a link or bookmark asks for, applied once its layout is drawn. */
export let pendingCamera: ViewState['camera'] = null;

export function takePendingCamera(): ViewState['camera'] {
  const camera = pendingCamera;
  pendingCamera = null;
  return camera;
}

export function setPendingCamera(camera: ViewState['camera']): void {
  pendingCamera = camera;
}

/** Show `info` with nothing of the previous embedding left (selection, job, sprite, ...). */
export function resetForEmbedding(info: EmbeddingInfo): void {
  app.embedding = info;
  void loadSteps(info);
  app.local = null;
  app.columns = [];
  app.metadataEdited = false;
  app.selection = EMPTY_INDICES;
  app.neighbors = null;
  app.isolated = null;
  app.hovered = null;
  app.search = { ...app.search, query: '', results: EMPTY_INDICES, searched: '', error: null };
  app.job = null;
  app.explainedVariance = null;
  app.bookmarks = [];
  app.activeBookmark = null;
  app.sprite = null;
  if (app.spriteUrl) URL.revokeObjectURL(app.spriteUrl);
  app.spriteUrl = null;
  app.banners = app.banners.filter((b) => b.embedding === undefined);
}

/** New metadata columns; keep the view's (or the current) label and colour columns if present. */
export function setColumns(columns: Column[], view: Pick<ViewState, 'colorBy' | 'labelBy' | 'categorical'> | null): void {
  app.columns = columns;
  const has = (name: string | null): name is string => name !== null && columns.some((c) => c.name === name);
  const labelBy = view?.labelBy ?? app.labelBy;
  app.labelBy = has(labelBy) ? labelBy : defaultLabelColumn(columns);
  // '' is an explicit "no colour"; null leaves the choice to us.
  const colorBy = view ? view.colorBy : app.colorBy;
  app.colorBy = colorBy === '' ? null : has(colorBy) ? colorBy : defaultColorColumn(columns);
  app.categorical = view?.categorical ?? null;
  const searchColumn = app.search.column;
  app.search.column = has(searchColumn) ? searchColumn : (app.labelBy ?? columns[0]?.name ?? null);
  if (!has(app.projection.custom.column)) app.projection.custom.column = app.labelBy;
}

async function loadSprite(info: EmbeddingInfo): Promise<void> {
  if (!info.has_sprite) return;
  try {
    const image = await api.sprite(info.id);
    if (app.embedding !== info) {
      URL.revokeObjectURL(image.url);
      return;
    }
    app.sprite = image.bitmap;
    app.spriteUrl = image.url;
  } catch (error) {
    app.fail('Could not load the sprite image', error);
  }
}

async function loadBookmarks(info: EmbeddingInfo): Promise<void> {
  try {
    const bookmarks = (await api.bookmarks(info.id)) as Bookmark[];
    if (app.embedding === info) app.bookmarks = bookmarks.map((b) => ({ ...b, isSelected: false }));
  } catch (error) {
    app.fail('Could not load the bookmarks', error);
  }
}
