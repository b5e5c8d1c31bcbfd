// The bookmarks panel's actions: add, rename, restore, delete, save to / load from a file; every
// change is saved to the server (PUT), beside the data.

import { app } from './app.svelte';
import { makeBookmark, nextBookmarkLabel, parseBookmarks, restoreBookmark } from './bookmarks';
import type { Bookmark } from './bookmarks';
import { api } from './api_instance';
import { currentView } from './current_view.svelte';
import { downloadBlob } from './downloads';
import { setPendingCamera } from './loading';
import { runProjection, stopFollowing } from './projection_runner.svelte';
import { resolvedParameters } from './method_params';
import { projectionDims } from './view_state';

function plotHeight(): number {
  return app.plotHeight;
}

function setBookmarks(bookmarks: Bookmark[]): void {
  app.bookmarks = bookmarks;
  void persist(bookmarks);
}

async function persist(bookmarks: Bookmark[]): Promise<void> {
  const embedding = app.embedding;
  if (!embedding || app.local) return;
  try {
    await api.saveBookmarks(embedding.id, bookmarks.map((b) => ({ ...b, isSelected: false })));
  } catch (error) {
    app.fail('Could not save the bookmarks on the server', error);
  }
}

export function addBookmark(): void {
  const embedding = app.embedding;
  if (!embedding) return;
  const bookmark = makeBookmark({
    label: nextBookmarkLabel(app.bookmarks),
    view: currentView(),
    shape: embedding.shape,
    layout: app.layout?.positions ?? null,
    isolated: app.isolated ? Array.from(app.isolated) : null,
    tsneIteration: app.job?.iteration ?? 0,
    plotHeight: plotHeight(),
    parameters: resolvedParameters(app.projection, app.config, embedding.shape[0]),
  });
  setBookmarks([...app.bookmarks, bookmark]);
  app.activeBookmark = app.bookmarks.length - 1;
}

export function renameBookmark(k: number, label: string): void {
  setBookmarks(app.bookmarks.map((b, j) => (j === k ? { ...b, label } : b)));
}

export function deleteBookmark(k: number): void {
  setBookmarks(app.bookmarks.filter((_, j) => j !== k));
  if (app.activeBookmark === k) app.activeBookmark = null;
}

export async function applyBookmark(k: number): Promise<void> {
  const bookmark = app.bookmarks[k];
  if (!bookmark || !app.embedding) return;
  const n = app.n;
  const restored = restoreBookmark(bookmark, n, plotHeight());
  const { view } = restored;
  const has = (name: string | null): boolean => name !== null && app.columns.some((c) => c.name === name);
  app.projection = view.projection;
  if (view.colorBy === '') app.colorBy = null;
  else if (has(view.colorBy)) app.colorBy = view.colorBy;
  app.categorical = view.categorical;
  if (has(view.labelBy)) app.labelBy = view.labelBy;
  app.selection = Int32Array.from(view.selection);
  app.isolated = restored.isolated ? Int32Array.from(restored.isolated) : null;
  setPendingCamera(view.camera);
  app.activeBookmark = k;
  if (restored.layout) {
    // The saved coordinates, as TensorBoard restores them (a t-SNE run is not reproducible).
    await stopFollowing();
    app.job = null;
    app.layout = { positions: restored.layout, dims: projectionDims(view.projection), kind: view.projection.kind, transition: {} };
  } else {
    await runProjection();
  }
}

export function saveBookmarksFile(): void {
  const name = app.embedding?.name.replace(/[^\w.-]+/g, '_') ?? 'projector';
  const json = JSON.stringify(app.bookmarks.map((b) => ({ ...b, isSelected: false })));
  downloadBlob(new Blob([json], { type: 'application/json' }), `${name}_bookmarks.json`);
}

export async function loadBookmarksFile(file: File): Promise<void> {
  try {
    const loaded = parseBookmarks(await file.text());
    const n = app.n;
    const mismatched = loaded.filter((b) => b.dataSetDimensions && b.dataSetDimensions[0] !== n).length;
    if (mismatched > 0) {
      app.addBanner('warning', `${mismatched} of the loaded bookmarks were saved for a data set of another size than ${n} points: their selections and coordinates may not match.`);
    }
    setBookmarks([...app.bookmarks, ...loaded]);
  } catch (error) {
    app.fail(`Could not load ${file.name}`, error);
  }
}
