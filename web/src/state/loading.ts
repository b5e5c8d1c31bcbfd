// Opening the app and an embedding: what the server serves, the first projection (as the URL or
// `--projection` asks), the metadata (Arrow), the sprite, the bookmarks, the warnings.
//
// First paint first: the projection starts at once, beside the one column the points are
// coloured by; the other columns load behind them. Above the server's `lod_threshold`, columns
// of many distinct values (a name per point) are not loaded at all: the server answers for
// them (search, the labels of the points shown).

import type { ColumnInfo, EmbeddingInfo } from '../api/types';
import { columnsFromArrow } from '../data/arrow_columns';
import { defaultColorColumn, defaultLabelColumn } from '../data/columns';
import type { Column } from '../data/columns';
import { afterPaint } from './after_paint';
import { api } from './api_instance';
import { EMPTY_INDICES, app } from './app.svelte';
import type { Bookmark } from './bookmarks';
import { startCompare, targetsOf } from './compare.svelte';
import { layoutShown, runProjection } from './projection_runner.svelte';
import { loadSteps } from './timeline.svelte';
import { pcaComponents } from './method_params';
import { decodeView } from './url_state';
import { fitToShape, inTwoDimensions, isProjectionKind } from './view_state';
import type { ViewState } from './view_state';

/** Above the LOD threshold, text columns of more distinct values than this stay on the
 * server: their strings would take more of the page's memory than the layout. */
export const SERVED_DISTINCT = 65_536;
/** The other columns wait for the first layout this long at most (a t-SNE's k-NN phase). */
const FIRST_PAINT_WAIT_MS = 10_000;

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
    const other = embeddings.find((e) => e.id === view.compare);
    const step = view.compareStep;
    const target = !other || step === null ? other && { info: other, step: null } : (await targetsOf(other, null)).find((t) => t.step?.index === step);
    if (target) await startCompare(target);
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
  // Above the threshold the 2D view reveals every point as one zooms in; 3D draws a sample.
  if (app.large && !view.dimsChosen) app.projection = inTwoDimensions(app.projection);
  for (const warning of info.warnings) app.addBanner('warning', warning, info.id);
  app.selection = Int32Array.from(view.selection.filter((i) => i < info.shape[0]));
  pendingCamera = view.camera;
  const served = app.large ? info.columns.filter((c) => c.kind === 'text' && c.distinct > SERVED_DISTINCT) : [];
  app.servedColumns = served;
  const loaded = info.columns.filter((c) => !served.includes(c));
  const summaries = loaded.map((c) => ({ ...c, rows: info.shape[0], integer: null }));
  const colorBy = view.colorBy === '' ? null : loaded.some((c) => c.name === view.colorBy) ? view.colorBy : defaultColorColumn(summaries);
  app.colorBy = colorBy;
  app.categorical = view.categorical;
  const projection = runProjection();
  const first = loaded.filter((c) => c.name === colorBy);
  // The other columns once the points are on screen: fetched beside the layout, ten million
  // rows of them would hold its requests back.
  if (await loadColumns(info, first)) {
    await layoutShown(FIRST_PAINT_WAIT_MS);
    await afterPaint();
    if (await loadColumns(info, loaded.filter((c) => c.name !== colorBy))) chooseColumns(view);
  }
  void loadSprite(info);
  void loadBookmarks(info);
  await projection;
}

/** Load some columns (none: nothing to do) into `app.columns`; false when that failed or
 * another embedding was opened meanwhile. */
async function loadColumns(info: EmbeddingInfo, columns: ColumnInfo[]): Promise<boolean> {
  if (columns.length === 0) return app.embedding === info;
  const label = app.columns.length === 0 && columns.length === 1 ? 'Loading the colours' : 'Loading metadata';
  try {
    app.loading = { label, progress: null };
    const names = columns.map((c) => c.name);
    // All of them: the server's order is theirs; only some: name them.
    const every = columns.length === info.columns.length;
    const table = await api.metadata(
      info.id,
      (loaded, total) => (app.loading = { label, progress: total ? loaded / total : null }),
      every ? undefined : names,
    );
    if (app.embedding !== info) return false;
    const added = columnsFromArrow(table, info.columns);
    const order = info.columns.map((c) => c.name);
    app.columns = [...app.columns, ...added].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    return true;
  } catch (error) {
    app.fail('Could not load the metadata', error);
    return false;
  } finally {
    app.loading = null;
  }
}

/** The label, colour, search and custom-axis columns, once every column is known. */
function chooseColumns(view: Pick<ViewState, 'colorBy' | 'labelBy'>): void {
  const names = app.columnNames;
  const has = (name: string | null): name is string => name !== null && names.includes(name);
  const every = [...app.columns, ...app.servedColumns];
  app.labelBy = has(view.labelBy) ? view.labelBy : defaultLabelColumn(every);
  // The colour column was chosen from the server's description; the values may say otherwise
  // (numbers that are not integers are not classes).
  if (view.colorBy === null) app.colorBy = defaultColorColumn(app.columns);
  const searchColumn = app.search.column;
  app.search.column = has(searchColumn) ? searchColumn : (app.labelBy ?? names[0] ?? null);
  if (!has(app.projection.custom.column)) app.projection.custom.column = app.labelBy;
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
  app.servedColumns = [];
  app.rowCells = new Map();
  app.rowPositions = null;
  app.shown = null;
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

/** New metadata columns (a file loaded in the page); keep the label and colour columns if present. */
export function setColumns(columns: Column[]): void {
  app.columns = columns;
  app.servedColumns = [];
  const has = (name: string | null): name is string => name !== null && columns.some((c) => c.name === name);
  app.labelBy = has(app.labelBy) ? app.labelBy : defaultLabelColumn(columns);
  app.colorBy = has(app.colorBy) ? app.colorBy : defaultColorColumn(columns);
  app.categorical = null;
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
