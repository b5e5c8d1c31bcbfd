// The plot's deck.gl views and viewports: 2-D (orthographic, y up) or 3-D (orbiting the y
// axis), for the points' deck (which holds the controller) and for the overlay's.

import { OrbitView, OrthographicView } from '@deck.gl/core';
import type { OrbitViewState, OrthographicViewState, Viewport } from '@deck.gl/core';

import type { Dims, Normalization } from './bounds';
import { FOVY } from './camera';
import type { Box } from './level_of_detail';
import type { Rgba } from './theme';

export type ViewState = OrthographicViewState | OrbitViewState;
export type PlotView = OrthographicView | OrbitView;

/**
 * The view of the points' deck, or (`overlay`) of the overlay's: no controller. `background`
 * is the clear colour; null clears to transparent (over the density image, and on the overlay).
 */
export function makePlotView(dims: Dims, overlay: boolean, background: Rgba | null): PlotView {
  // Distinct ids: deck.gl then builds a new controller when the view switches between 2D and
  // 3D (reusing the orthographic one for the orbit view throws on the first drag).
  const common = {
    id: dims === 2 ? 'plot-2d' : 'plot-3d',
    clear: true,
    // Without a clear colour deck.gl clears to transparent, and what is under shows through.
    // (A transparent clearColor would not do: deck.gl takes an alpha of 0 for 255.)
    ...(background && { clearColor: background }),
  };
  const controller = overlay ? false : { inertia: 300 };
  if (dims === 2) {
    // y up, as in the 3D view and in every plot of a projection.
    return new OrthographicView({ ...common, flipY: false, controller });
  }
  // Y is the orbit axis: the data's y stays up while the camera circles around it.
  return new OrbitView({ ...common, orbitAxis: 'Y', fovy: FOVY, controller });
}

/** The viewport of a camera in a plot of width × height CSS px (computed here: deck.gl
 * updates its own lazily). */
export function makeViewport(view: PlotView, width: number, height: number, viewState: ViewState): Viewport | null {
  return view instanceof OrbitView
    ? view.makeViewport({ width, height, viewState: viewState as OrbitViewState })
    : view.makeViewport({ width, height, viewState });
}

/** The part of a 2-D layout a viewport of width × height CSS px shows, in raw coordinates
 * (the layout's normalisation undone). */
export function viewBox(viewport: Viewport, width: number, height: number, { center, scale }: Normalization): Box {
  const corners = [viewport.unproject([0, 0]), viewport.unproject([width, height])];
  const raw = corners.map(([x = 0, y = 0]) => [x / scale + center[0], y / scale + center[1]]);
  return {
    min: [Math.min(raw[0]![0]!, raw[1]![0]!), Math.min(raw[0]![1]!, raw[1]![1]!)],
    max: [Math.max(raw[0]![0]!, raw[1]![0]!), Math.max(raw[0]![1]!, raw[1]![1]!)],
  };
}
