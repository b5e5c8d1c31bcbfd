// Camera state of the plot: what bookmarks and the URL store, and fitting it to the data.

import type { OrbitViewState, OrthographicViewState } from '@deck.gl/core';

import { DEFAULT_FIT_MARGIN, DEFAULT_ROTATION_ORBIT, DEFAULT_ROTATION_X } from '../constants';
import type { Bounds, Dims } from './bounds';

/** 2D camera: the normalised data coordinate at the centre and log2 of pixels per unit. */
export interface Camera2D {
  mode: '2d';
  target: [number, number];
  zoom: number;
}

/** 3D camera orbiting `target`; angles in degrees. */
export interface Camera3D {
  mode: '3d';
  target: [number, number, number];
  zoom: number;
  rotationOrbit: number;
  rotationX: number;
}

export type Camera = Camera2D | Camera3D;

/** Vertical field of view of the 3D view, in degrees (deck.gl OrbitView's default). */
export const FOVY = 50;
/** Zoom range around the fitted zoom: from far out to deep into a cluster of a million. */
const ZOOM_OUT_STEPS = 3;
const ZOOM_IN_STEPS = 14;

export function cameraCenter(bounds: Bounds): [number, number, number] {
  return [0, 1, 2].map((k) => (bounds.min[k]! + bounds.max[k]!) / 2) as [number, number, number];
}

/**
 * The camera that shows all points of a layout in a viewport of width × height CSS pixels,
 * leaving `margin` of each side free. 2D fits the bounding box; 3D fits the sphere of `radius`
 * around the origin (where normalised layouts are centred), which holds from every angle.
 */
export function fitCamera(
  bounds: Bounds,
  radius: number,
  dims: Dims,
  width: number,
  height: number,
  margin = DEFAULT_FIT_MARGIN,
): Camera {
  const w = Math.max(width, 1) * (1 - 2 * margin);
  const h = Math.max(height, 1) * (1 - 2 * margin);
  if (dims === 2) {
    const center = cameraCenter(bounds);
    // A single point (or a line) has no extent on some axis: fall back to the unit cube's.
    const spanX = bounds.max[0] - bounds.min[0] || 2;
    const spanY = bounds.max[1] - bounds.min[1] || 2;
    return { mode: '2d', target: [center[0], center[1]], zoom: Math.log2(Math.min(w / spanX, h / spanY)) };
  }
  // Orbiting turns the data, so fit a sphere. Under perspective the sphere's silhouette
  // subtends asin(R / D) seen from distance D; it must fit in the half-size of the smaller side.
  // deck.gl puts the camera at D = 0.5 / tan(fovy / 2) viewport heights, in pixels of the target plane.
  const distance = (0.5 / Math.tan((FOVY * Math.PI) / 360)) * Math.max(height, 1);
  const halfSide = Math.min(w, h) / 2;
  const radiusPixels = distance * Math.sin(Math.atan(halfSide / distance));
  return {
    mode: '3d',
    target: [0, 0, 0],
    zoom: Math.log2(radiusPixels / (radius || 1)),
    rotationOrbit: DEFAULT_ROTATION_ORBIT,
    rotationX: DEFAULT_ROTATION_X,
  };
}

/** deck.gl view state for a camera, with zoom limits around the fitted zoom. */
export function toViewState(camera: Camera, fitZoom: number): OrthographicViewState | OrbitViewState {
  const limits = { minZoom: fitZoom - ZOOM_OUT_STEPS, maxZoom: fitZoom + ZOOM_IN_STEPS };
  if (camera.mode === '2d') {
    return { target: [camera.target[0], camera.target[1], 0], zoom: camera.zoom, ...limits };
  }
  return {
    target: camera.target,
    zoom: camera.zoom,
    rotationOrbit: camera.rotationOrbit,
    rotationX: camera.rotationX,
    ...limits,
  };
}

/** The camera described by a deck.gl view state of the given mode. */
export function fromViewState(mode: '2d' | '3d', viewState: OrthographicViewState | OrbitViewState): Camera {
  const target = viewState.target ?? [0, 0, 0];
  const zoom = typeof viewState.zoom === 'number' ? viewState.zoom : 0;
  if (mode === '2d') return { mode, target: [target[0], target[1]], zoom };
  const orbit = viewState as OrbitViewState;
  return {
    mode,
    target: [target[0], target[1], target[2] ?? 0],
    zoom,
    rotationOrbit: orbit.rotationOrbit ?? 0,
    rotationX: orbit.rotationX ?? 0,
  };
}
