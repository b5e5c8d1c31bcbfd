// Probe WebGL 2 before handing the page to deck.gl, so a browser without it gets a message that
// says what to do instead of a blank plot (a TensorBoard complaint, SPEC §4).

import { ERROR_WEBGL_UNAVAILABLE } from '../constants';

export interface GpuLimits {
  /** Smallest and largest point diameter the GPU draws, in device pixels. */
  pointSizeRange: [number, number];
  /** Largest texture edge in pixels (sprite atlases beyond it are scaled down). */
  maxTextureSize: number;
}

export function probeWebGL(): GpuLimits {
  const gl = createContext();
  if (!gl) throw new Error(ERROR_WEBGL_UNAVAILABLE);
  const range = gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE) as Float32Array;
  const maxTextureSize = Number(gl.getParameter(gl.MAX_TEXTURE_SIZE)) || 4096;
  // Browsers cap live contexts (about 16): give this one back at once.
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { pointSizeRange: [Math.max(range[0] ?? 1, 1), Math.max(range[1] ?? 64, 1)], maxTextureSize };
}

function createContext(): WebGL2RenderingContext | null {
  try {
    return document.createElement('canvas').getContext('webgl2');
  } catch {
    // Some browsers throw instead of returning null when WebGL is blocked.
    return null;
  }
}
