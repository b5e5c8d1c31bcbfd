// Work that follows bursts of changes (key strokes, camera drags, lasso points) runs once,
// a moment after the last change of the burst.

/** A function that runs `fn` `delayMs` after its last call (earlier calls are dropped). */
export function debounce(fn: () => void, delayMs: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, delayMs);
  };
}
