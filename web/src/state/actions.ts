// What the user does to the selection and the metadata: select, isolate, search, tag.

import { ApiError } from '../api/api_error';
import { tagRows } from '../data/columns';
import { searchColumn } from '../data/search';
import type { Modifiers, ShapeQuery } from '../render';
import { api } from './api_instance';
import { EMPTY_INDICES, app } from './app.svelte';
import { clickSelection, combineSelection, intersectSorted } from './selection';

const NO_MODIFIERS: Modifiers = { shift: false, ctrl: false, meta: false, alt: false };

export function select(indices: Int32Array): void {
  app.selection = indices;
  app.activeBookmark = null;
}

export function selectShape(indices: Int32Array, modifiers: Modifiers): void {
  select(combineSelection(app.selection, indices, modifiers));
}

/**
 * A rectangle or lasso drawn on a layout too big for the page: the server decides over every
 * row, the isolated ones only when some are.
 */
export async function selectByShape(query: ShapeQuery, modifiers: Modifiers): Promise<void> {
  const server = app.layout?.server;
  if (!server) return;
  try {
    const rows = await api.selectInShape(server.info.id, query);
    if (app.layout?.server !== server) return;
    selectShape(app.isolated ? intersectSorted(rows, app.isolated) : rows, modifiers);
  } catch (error) {
    // A layout replaced meanwhile (404): the shape was drawn on a view that is gone.
    if (!(error instanceof ApiError && error.status === 404)) app.fail('The selection failed', error);
  }
}

export function clickPoint(index: number | null, modifiers: Modifiers = NO_MODIFIERS): void {
  select(clickSelection(app.selection, index, modifiers));
}

export function clearSelection(): void {
  select(EMPTY_INDICES);
}

/** Show only the selection and its neighbours. */
export function isolateSelection(): void {
  if (app.selection.length === 0) return;
  const shown = new Set<number>(app.selection);
  for (const i of app.neighbors?.indices ?? []) shown.add(i);
  app.isolated = Int32Array.from(shown).sort();
}

export function showAllData(): void {
  app.isolated = null;
}

let searchSerial = 0;

/**
 * Search the search column; the matches become the selection, as in TensorBoard. A column the
 * page does not hold (above the LOD threshold) is searched by the server, the same way.
 */
export async function runSearch(): Promise<void> {
  const serial = ++searchSerial;
  const { query, regex, column: name } = app.search;
  const column = app.column(name);
  const served = app.isServed(name) && app.embedding;
  if ((!column && !served) || query.trim() === '') {
    app.search = { ...app.search, results: EMPTY_INDICES, searched: query, error: null };
    return;
  }
  try {
    const results = column ? searchColumn(column, query, regex) : await api.search(app.embedding!.id, query, name!, regex);
    if (serial !== searchSerial) return;
    app.search = { ...app.search, results, searched: query, error: null };
    select(results);
  } catch (error) {
    if (serial !== searchSerial) return;
    const message = error instanceof Error ? error.message : String(error);
    app.search = { ...app.search, results: EMPTY_INDICES, searched: query, error: message };
  }
}

/** "Tag selection as": set `value` in column `name` (new or existing) for the selected rows. */
export function tagSelection(name: string, value: string): void {
  const trimmed = name.trim();
  if (trimmed === '' || app.selection.length === 0) return;
  const existing = app.column(trimmed);
  const tagged = tagRows(existing, trimmed, app.n, app.selection, value);
  app.columns = existing ? app.columns.map((c) => (c === existing ? tagged : c)) : [...app.columns, tagged];
  app.metadataEdited = true;
}
