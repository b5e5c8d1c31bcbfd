// Keyboard shortcuts: one table drives both the key handler and the help overlay (`?`).

import { app } from './app.svelte';
import { clearSelection, isolateSelection, showAllData } from './actions';
import { addBookmark } from './bookmark_actions';
import { host } from './host';
import { controlJob, runProjection } from './projection_runner.svelte';

export interface Shortcut {
  keys: string;
  description: string;
  run: () => void;
}

function setDims(dims: 2 | 3): void {
  const kind = app.projection.kind;
  if (kind === 'custom' || app.projection[kind].dims === dims) return;
  app.projection[kind].dims = dims;
  void runProjection();
}

function setKind(kind: 'pca' | 'tsne' | 'umap' | 'custom'): void {
  if (app.projection.kind === kind) return;
  app.projection.kind = kind;
  void runProjection();
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: '?', description: 'Show or hide this help', run: () => (app.helpOpen = !app.helpOpen) },
  { keys: '/', description: 'Search', run: () => host().root.getElementById('search-input')?.focus() },
  { keys: 'Esc', description: 'Clear the selection (or close this help)', run: () => (app.helpOpen ? (app.helpOpen = false) : clearSelection()) },
  { keys: 'r', description: 'Reset the view', run: () => app.plot?.resetView() },
  { keys: 'v', description: 'Navigate: drag to orbit (3D) or pan (2D)', run: () => (app.mouseMode = 'navigate') },
  { keys: 'x', description: 'Rectangle selection (shift adds, alt removes)', run: () => (app.mouseMode = 'rectangle') },
  { keys: 'l', description: 'Lasso selection (shift adds, alt removes)', run: () => (app.mouseMode = 'lasso') },
  { keys: 'i', description: 'Isolate the selection and its neighbours', run: isolateSelection },
  { keys: 'a', description: 'Show all data', run: showAllData },
  { keys: '2', description: '2D', run: () => setDims(2) },
  { keys: '3', description: '3D', run: () => setDims(3) },
  { keys: 'p', description: 'PCA', run: () => setKind('pca') },
  { keys: 't', description: 't-SNE', run: () => setKind('tsne') },
  { keys: 'u', description: 'UMAP', run: () => setKind('umap') },
  { keys: 'c', description: 'Custom projection', run: () => setKind('custom') },
  {
    keys: 'Space',
    description: 'Pause or resume t-SNE',
    run: () => {
      const job = app.job;
      if (job?.state === 'running') void controlJob(job.paused ? 'resume' : 'pause');
    },
  },
  { keys: 's', description: 'Show thumbnails as points (when there are sprites)', run: () => (app.showSprites = !app.showSprites) },
  { keys: 'b', description: 'Add a bookmark', run: addBookmark },
  { keys: 'n', description: 'Night mode', run: () => (app.theme = app.theme === 'dark' ? 'light' : 'dark') },
];

const KEY_NAMES: Record<string, string> = { Escape: 'Esc', ' ': 'Space' };

/** Handle a key press outside text fields; true when it was a shortcut. */
export function handleShortcut(event: KeyboardEvent): boolean {
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  const target = event.target as HTMLElement | null;
  // Letters typed into a text field are text; a focused checkbox or slider does not take them.
  const typing = target?.closest(
    'input:not([type=checkbox]):not([type=radio]):not([type=range]):not([type=button]), textarea, select, [contenteditable="true"]',
  );
  if (typing && event.key !== 'Escape') return false;
  if (typing) {
    (target as HTMLElement).blur();
    return true;
  }
  // Space and Enter keep their meaning on buttons.
  if (event.key === ' ' && target?.closest('button')) return false;
  const name = KEY_NAMES[event.key] ?? event.key;
  const shortcut = SHORTCUTS.find((s) => s.keys === name);
  if (!shortcut) return false;
  shortcut.run();
  return true;
}
