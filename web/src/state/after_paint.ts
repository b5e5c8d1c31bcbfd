// The points first: work that would hold back the frame showing a new layout (decoding the
// other metadata columns, asking the server to measure the layout, which then competes with
// the browser for the cores) starts once that frame is on screen.

/** Animation frames to wait: what is drawn in the next one is on screen when the second starts. */
const FRAMES = 2;
/** Where the page draws no frames (a hidden tab, a collapsed notebook output): go on after this. */
const WITHOUT_FRAMES_MS = 500;

/** Resolves once what the page draws now is on screen (or after a moment without frames). */
export function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, WITHOUT_FRAMES_MS);
    const wait = (frames: number): void => {
      if (frames === 0) {
        clearTimeout(timer);
        resolve();
      } else {
        requestAnimationFrame(() => wait(frames - 1));
      }
    };
    wait(FRAMES);
  });
}
