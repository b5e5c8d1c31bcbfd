// The view on screen now, for the URL and for bookmarks.

import { app } from './app.svelte';
import { compare } from './compare.svelte';
import { debounce } from './debounce';
import { host } from './host';
import { encodeView } from './url_state';
import type { ProjectionSettings, ViewState } from './view_state';

export function currentView(): ViewState {
  return {
    // Vectors loaded in the page have no server id: a link cannot reopen them.
    embedding: app.local ? null : (app.embedding?.id ?? null),
    projection: $state.snapshot<ProjectionSettings>(app.projection),
    selection: Array.from(app.selection),
    camera: app.plot && app.layout ? app.plot.getCamera() : null,
    colorBy: app.colorBy ?? '',
    categorical: app.categorical,
    labelBy: app.labelBy,
    compare: compare.other?.id ?? null,
    compareStep: compare.otherStep?.index ?? null,
    dimsChosen: true,
  };
}

/** Hash updates wait this long after the last change (a camera drag changes every frame). */
export const DEFAULT_URL_DELAY_MS = 300;

/** Write the view into the URL hash soon (replacing the entry: no history per camera move). */
export const scheduleUrlUpdate = debounce(() => {
  if (!app.embedding || !host().ownsPage) return;
  const hash = encodeView(currentView());
  if (location.hash.slice(1) !== hash) history.replaceState(null, '', `#${hash}`);
}, DEFAULT_URL_DELAY_MS);
