// The selection, reported to the server a moment after it changes, so that Python code that
// opened the page (`show()` in a notebook) can read it back.

import { api } from './api_instance';
import { app } from './app.svelte';
import { debounce } from './debounce';
import { host } from './host';

/** Reports wait this long after the last change (a lasso drawn point by point, say). */
export const DEFAULT_SELECTION_REPORT_DELAY_MS = 250;
/** Report the selection to the server soon. */
export const scheduleSelectionReport = debounce(() => {
  const embedding = app.embedding;
  // Vectors loaded in the page are unknown to the server; a widget reports to its trait.
  if (!embedding || app.local || !host().ownsPage) return;
  api.putSelection(embedding.id, app.selection).catch((error: unknown) => {
    // Only Python reads this back: not worth a banner in the page.
    console.warn('could not report the selection to the server', error);
  });
}, DEFAULT_SELECTION_REPORT_DELAY_MS);
