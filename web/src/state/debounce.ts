// Work that follows bursts of changes (key strokes, camera drags, lasso points) runs once,
// a moment after the last change of the burst.

/** A burst-following call: runs its work a moment after the last call. */
export interface Debounced {
  (): void;
  /** Runs the work at once and drops the pending run, so it does not run a second time later. */
  now(): void;
}

/** A function that runs `fn` `delayMs` after its last call (earlier calls are dropped). */
export function debounce(fn: () => void, delayMs: number): Debounced {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const soon = (): void => {
    clearTimeout(timer);
    timer = setTimeout(fn, delayMs);
  };
  soon.now = (): void => {
    clearTimeout(timer);
    fn();
  };
  return soon;
}
