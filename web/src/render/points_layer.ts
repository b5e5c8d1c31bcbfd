// PointsLayer: every data point as one GL point, fed from binary attributes.

import { Layer, project32 } from '@deck.gl/core';
import type { DefaultProps, LayerProps, UpdateParameters } from '@deck.gl/core';
import { Texture } from '@luma.gl/core';
import { Model } from '@luma.gl/engine';
import type { ModelProps } from '@luma.gl/engine';

import { fs, pointsUniforms, vs } from './points_shaders';
import type { PointsUniformProps } from './points_shaders';

/** A sprite atlas: thumbnails of cellWidth × cellHeight in row-major order. */
export interface SpriteSheet {
  image: ImageBitmap | HTMLImageElement | HTMLCanvasElement;
  cellWidth: number;
  cellHeight: number;
  /** Thumbnails per row of the atlas (TensorBoard's are square grids; ours need not be). */
  columns: number;
}

/** Binary columns of the layer: `value` arrays go to the GPU as they are. */
export interface PointsData {
  length: number;
  attributes: {
    getPosition: { value: Float32Array; size: 3 };
    /** During a layout change: where the points start from (see `progress`). */
    getPreviousPosition?: { value: Float32Array; size: 3 };
    getColor: { value: Uint8Array; size: 4; normalized: true };
    getSize?: { value: Float32Array; size: 1 };
    getVisible?: { value: Uint8Array; size: 1; normalized: true };
  };
}

interface PointsLayerOwnProps {
  data: PointsData;
  /** Diameter in CSS pixels (times the per-point size). */
  pointSize: number;
  /** The GPU's point size limits in device pixels (gl.ALIASED_POINT_SIZE_RANGE). */
  pointSizeRange: [number, number];
  sprite: SpriteSheet | null;
  /** The atlas image; deck.gl turns it into a texture (and releases it) as an image prop. */
  spriteAtlas: Texture | SpriteSheet['image'] | null;
  /** Index of the first point of `data` in the full set (for its thumbnail). */
  indexOffset: number;
  /** Eased progress of a layout change, 0..1 (1 when nothing moves). */
  progress: number;
  /** Multiply thumbnails by their point's colour (when points are coloured by a column). */
  tintSprites: boolean;
  // Accessors: the values apply where `data.attributes` has no column (deck.gl then keeps a
  // constant attribute instead of a buffer of N copies).
  getPosition: [number, number, number];
  getPreviousPosition: [number, number, number];
  getColor: [number, number, number, number];
  getSize: number;
  getVisible: number;
}

export type PointsLayerProps = PointsLayerOwnProps & LayerProps;

type ShaderProps = Pick<ModelProps, 'vs' | 'fs' | 'modules' | 'defines'>;

const defaultProps: DefaultProps<PointsLayerProps> = {
  pointSize: { type: 'number', min: 0, value: 3 },
  pointSizeRange: { type: 'array', value: [1, 64], compare: true },
  sprite: { type: 'object', value: null, compare: false },
  spriteAtlas: { type: 'image', value: null, async: true },
  indexOffset: { type: 'number', value: 0 },
  progress: { type: 'number', min: 0, max: 1, value: 1 },
  tintSprites: { type: 'boolean', value: false },
  getPosition: { type: 'accessor', value: [0, 0, 0] },
  getPreviousPosition: { type: 'accessor', value: [0, 0, 0] },
  getColor: { type: 'accessor', value: [78, 121, 167, 255] },
  getSize: { type: 'accessor', value: 1 },
  getVisible: { type: 'accessor', value: 255 },
};

export class PointsLayer extends Layer<Required<PointsLayerOwnProps>> {
  static override layerName = 'PointsLayer';
  static override defaultProps = defaultProps;

  declare state: { model?: Model; sprites: boolean };

  override getShaders(): ShaderProps {
    return super.getShaders({
      vs,
      fs,
      modules: [project32, pointsUniforms],
      defines: this.state.sprites ? { SPRITES: 1 } : {},
    }) as ShaderProps;
  }

  override initializeState(): void {
    this.state = { sprites: false };
    this.getAttributeManager()!.add({
      // Plain float32 (no fp64 split): positions are normalised to [-1, 1]³, so single
      // precision is exact enough and the vertex shader stays as cheap as a bare draw.
      positions: { size: 3, type: 'float32', fp64: false, accessor: 'getPosition' },
      previousPositions: { size: 3, type: 'float32', fp64: false, accessor: 'getPreviousPosition' },
      colors: { size: 4, type: 'unorm8', accessor: 'getColor' },
      sizes: { size: 1, accessor: 'getSize' },
      shown: { size: 1, type: 'unorm8', accessor: 'getVisible' },
    });
  }

  override updateState(params: UpdateParameters<this>): void {
    super.updateState(params);
    const sprites = Boolean(params.props.spriteAtlas && params.props.sprite);
    // The sprite sampler exists only in the SPRITES variant: switching recompiles the program.
    if (!this.state.model || sprites !== this.state.sprites) {
      this.state.model?.destroy();
      this.setState({ sprites });
      this.setState({ model: this.createModel() });
      this.getAttributeManager()!.invalidateAll();
    }
  }

  override finalizeState(context: this['context']): void {
    super.finalizeState(context);
    this.state.model?.destroy();
  }

  override draw(): void {
    const { model } = this.state;
    if (!model) return;
    const { pointSize, pointSizeRange, sprite, spriteAtlas, indexOffset, progress, tintSprites } =
      this.props;
    const uniforms: PointsUniformProps = {
      pointSize,
      minPointSize: pointSizeRange[0],
      maxPointSize: pointSizeRange[1],
      spriteGrid: [1, 1, 1, 1],
      spriteAspect: 1,
      spriteCount: 0,
      indexOffset,
      progress,
      tintSprites: tintSprites ? 1 : 0,
    };
    if (sprite && spriteAtlas instanceof Texture && this.state.sprites) {
      // The epsilon absorbs rounding of a scaled-down atlas (sprite_fit.ts).
      const rows = Math.floor(spriteAtlas.height / sprite.cellHeight + 1e-6);
      uniforms.spriteGrid = [
        sprite.columns,
        rows,
        sprite.cellWidth / spriteAtlas.width,
        sprite.cellHeight / spriteAtlas.height,
      ];
      uniforms.spriteAspect = sprite.cellWidth / sprite.cellHeight;
      uniforms.spriteCount = sprite.columns * rows;
      uniforms.spriteAtlas = spriteAtlas;
    }
    model.shaderInputs.setProps({ points: uniforms });
    model.setVertexCount(this.getNumInstances());
    model.draw(this.context.renderPass);
  }

  private createModel(): Model {
    return new Model(this.context.device, {
      ...this.getShaders(),
      id: this.props.id,
      bufferLayout: this.getAttributeManager()!.getBufferLayouts(),
      topology: 'point-list',
      isInstanced: false,
      vertexCount: this.getNumInstances(),
    });
  }
}
