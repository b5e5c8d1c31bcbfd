// The plot's canvases: the overlay's, over the points' canvas (rings, labels and the rows given
// by position are drawn there, plot_layers.ts), and the composite of them all that "Save image"
// saves.

import type { DensityBackdrop } from './density_layer';

/** A canvas filling `container` over what it holds; the pointer goes through it. */
export function overlayCanvasIn(container: HTMLElement): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  Object.assign(canvas.style, {
    position: 'absolute',
    inset: '0',
    width: '100%',
    height: '100%',
    pointerEvents: 'none',
  });
  container.append(canvas);
  return canvas;
}

/**
 * The points' canvas (over the `background` colour and the density image, when shown) and the
 * overlay's, in one canvas of the points' size.
 */
export function compositeCanvases(
  drawn: HTMLCanvasElement,
  over: HTMLCanvasElement,
  backdrop: DensityBackdrop,
  background: string,
): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = drawn.width;
  canvas.height = drawn.height;
  const context = canvas.getContext('2d');
  if (!context) return drawn;
  if (backdrop.visible) {
    // The points' canvas is transparent where no point is: the background shows through.
    context.fillStyle = background;
    context.fillRect(0, 0, canvas.width, canvas.height);
    backdrop.drawInto(context, drawn.width / Math.max(drawn.clientWidth, 1));
  }
  context.drawImage(drawn, 0, 0);
  context.drawImage(over, 0, 0, canvas.width, canvas.height);
  return canvas;
}
