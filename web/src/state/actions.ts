// What the user does to the selection and the metadata: select, isolate, search, tag.

import { tagRows } from '../data/columns';
import { searchColumn } from '../data/search';
import type { Modifiers } from '../render';
import { EMPTY_INDICES, app } from './app.svelte';
import { clickSelection, combineSelection } from './selection';

const NO_MODIFIERS: Modifiers = { shift: false, ctrl: false, meta: false, alt: false };

export function select(indices: Int32Array): void {
  app.selection = indices;
  app.activeBookmark = null;
}

export function selectShape(indices: Int32Array, modifiers: Modifiers): void {
  select(combineSelection(app.selection, indices, modifiers));
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

/** Search the search column; the matches become the selection, as in TensorBoard. */
export function runSearch(): void {
  const { query, regex } = app.search;
  const column = app.column(app.search.column);
  if (!column || query.trim() === '') {
    app.search = { ...app.search, results: EMPTY_INDICES, searched: query, error: null };
    return;
  }
  try {
    const results = searchColumn(column, query, regex);
    app.search = { ...app.search, results, searched: query, error: null };
    select(results);
  } catch (error) {
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
