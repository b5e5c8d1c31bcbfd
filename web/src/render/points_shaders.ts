// GLSL of PointsLayer: one GL point per data point (no instanced quads), a round anti-aliased
// disc, or the point's thumbnail from a sprite atlas when SPRITES is defined.
//
// Why points rather than deck.gl's ScatterplotLayer quads: a million points cost a million
// vertex-shader runs instead of four million, which is what lets the plot stay within a small
// factor of a bare WebGL draw (benchmarks/bench_web.py).

import type { ShaderModule } from '@luma.gl/shadertools';
import type { Texture } from '@luma.gl/core';

const uniformBlock = /* glsl */ `\
layout(std140) uniform pointsUniforms {
  float pointSize;
  float minPointSize;
  float maxPointSize;
  vec4 spriteGrid;
  float spriteAspect;
  float spriteCount;
  float indexOffset;
  float progress;
  float tintSprites;
} points;
`;

export type PointsUniformProps = {
  /** Diameter in CSS pixels, multiplied by the per-point size. */
  pointSize: number;
  /** Clamp of the final diameter, in device pixels (the GPU's point size range). */
  minPointSize: number;
  maxPointSize: number;
  /** columns, rows, cell width / atlas width, cell height / atlas height. */
  spriteGrid: [number, number, number, number];
  /** Cell width / cell height. */
  spriteAspect: number;
  /** Cells in the atlas: points past it are drawn as discs. */
  spriteCount: number;
  /** Point index of the first vertex: a layer of one point can show point k's thumbnail. */
  indexOffset: number;
  /** Eased progress of a layout change: 0 draws previousPositions, 1 draws positions. */
  progress: number;
  /** 1: thumbnails are multiplied by their point's colour, as TensorBoard draws them. */
  tintSprites: number;
  spriteAtlas?: Texture | null;
};

export const pointsUniforms = {
  name: 'points',
  vs: uniformBlock,
  fs: uniformBlock,
  uniformTypes: {
    pointSize: 'f32',
    minPointSize: 'f32',
    maxPointSize: 'f32',
    spriteGrid: 'vec4<f32>',
    spriteAspect: 'f32',
    spriteCount: 'f32',
    indexOffset: 'f32',
    progress: 'f32',
    tintSprites: 'f32',
  },
} as const satisfies ShaderModule<PointsUniformProps>;

export const vs = /* glsl */ `\
#version 300 es
#define SHADER_NAME points-layer-vertex-shader
in vec3 positions;
in vec3 previousPositions;
in vec4 colors;
in float sizes;
in float shown;
out vec4 vColor;
out float vDiameter;
flat out int vIndex;

void main(void) {
  // A point without a previous position (it just appeared) is drawn at its new one.
  vec3 position = any(isnan(previousPositions))
    ? positions
    : mix(previousPositions, positions, points.progress);
  geometry.worldPosition = position;
  // One vertex per point, so the vertex id is the point index (of its thumbnail).
  vIndex = gl_VertexID + int(points.indexOffset);
  // The plot's views are cartesian with no model matrix, where deck.gl's common space is the
  // world space: one matrix product, as in a bare draw, instead of project_position's
  // geospatial branches on each of a million vertices. Its identity projection draws relative
  // to the camera's target (coordinateOrigin, offset mode): without that subtraction, a view
  // panned away from the origin drew the points where the target was the origin.
  geometry.position = vec4(position - project.coordinateOrigin, 1.0);
  gl_Position = project.viewProjectionMatrix * geometry.position + project.center;
  DECKGL_FILTER_GL_POSITION(gl_Position, geometry);
  vDiameter = clamp(points.pointSize * sizes * project.devicePixelRatio,
                    points.minPointSize, points.maxPointSize);
  // One extra pixel holds the anti-aliased rim.
  gl_PointSize = vDiameter + 1.0;
  // Hidden points (mask byte 0, normalised to 0.0) and non-finite ones go past the far plane:
  // clipped before rasterisation.
  if (shown < 0.5 / 255.0 || any(isnan(position))) {
    gl_Position = vec4(0.0, 0.0, 2.0, 1.0);
  }
  vColor = vec4(colors.rgb, colors.a * layer.opacity);
  DECKGL_FILTER_COLOR(vColor, geometry);
}
`;

export const fs = /* glsl */ `\
#version 300 es
#define SHADER_NAME points-layer-fragment-shader
precision highp float;
in vec4 vColor;
in float vDiameter;
flat in int vIndex;
out vec4 fragColor;
#ifdef SPRITES
uniform sampler2D spriteAtlas;
#endif

// Coverage of a disc of the given diameter at this fragment, with a one-pixel soft edge.
float discCoverage(float diameter) {
  float size = diameter + 1.0;
  float r = length(gl_PointCoord - 0.5) * size;
  return 1.0 - smoothstep(diameter * 0.5 - 0.5, diameter * 0.5 + 0.5, r);
}

void main(void) {
#ifdef SPRITES
  if (float(vIndex) < points.spriteCount) {
    // Letterbox a non-square thumbnail inside the square point.
    vec2 p = gl_PointCoord - 0.5;
    p *= points.spriteAspect > 1.0 ? vec2(1.0, points.spriteAspect)
                                   : vec2(1.0 / points.spriteAspect, 1.0);
    if (abs(p.x) > 0.5 || abs(p.y) > 0.5) discard;
    float column = mod(float(vIndex), points.spriteGrid.x);
    float row = floor(float(vIndex) / points.spriteGrid.x);
    vec2 uv = (vec2(column, row) + p + 0.5) * points.spriteGrid.zw;
    fragColor = texture(spriteAtlas, uv);
    if (fragColor.a < 0.01) discard;
    // Coloured by a metadata column, a thumbnail takes its point's colour (white stays
    // white where nothing is coloured): the classes stay visible with images on.
    if (points.tintSprites > 0.5) fragColor.rgb *= vColor.rgb;
    DECKGL_FILTER_COLOR(fragColor, geometry);
    return;
  }
#endif
  float coverage = discCoverage(vDiameter);
  if (coverage <= 0.0) discard;
  fragColor = vec4(vColor.rgb, vColor.a * coverage);
  DECKGL_FILTER_COLOR(fragColor, geometry);
}
`;
