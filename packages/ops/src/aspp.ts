import * as tf from '@tensorflow/tfjs';
import { Conv2d } from './conv2d.js';
import { ConvBnRelu } from './conv-blocks.js';
import { addCosts, type Cost, type ForwardContext, type Layer, type Size } from './layer.js';
import { Module } from './module.js';
import type { Rng } from '@adl/backend';
import { SeparableConvBnRelu } from './separable-conv-bn-relu.js';

/** Global average → 1×1 conv → BN → ReLU → broadcast back to the input size. */
export class ImagePooling extends Module implements Layer {
  private readonly block: ConvBnRelu;

  constructor(inChannels: number, outChannels: number, affine: boolean, rng: Rng) {
    super();
    this.block = this.addChild(new ConvBnRelu({ inChannels, outChannels, kernel: 1, affine, rng }));
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const [batch, height, width] = x.shape;
    const pooled = this.block.apply(tf.mean(x, [1, 2], true) as tf.Tensor4D, ctx);
    // A product with ones, not broadcastTo: tfjs differentiates broadcastTo as a tile, whose
    // gradient is one slice per output pixel (289 slices for a 17×17 map).
    return tf.mul(pooled, tf.ones([batch, height, width, 1])) as tf.Tensor4D;
  }

  outputSize(input: Size): Size {
    return input;
  }

  cost(): Cost {
    return this.block.cost([1, 1]);
  }
}

/** Parallel branches on one input, concatenated along channels, then a 1×1 projection. */
abstract class ParallelBranches extends Module implements Layer {
  private readonly branches: readonly Layer[];
  private readonly projection: Layer;

  constructor(branches: readonly Layer[], projection: Layer) {
    super();
    this.branches = this.addChildren(branches);
    this.projection = this.addChild(projection);
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return this.projection.apply(tf.concat(this.branches.map((branch) => branch.apply(x, ctx)), 3), ctx);
  }

  outputSize(input: Size): Size {
    return input;
  }

  cost(input: Size): Cost {
    return addCosts(...this.branches.map((branch) => branch.cost(input)), this.projection.cost(input));
  }
}

export interface SearchAsppOptions {
  readonly inChannels: number;
  /** `B·F·2^i` in the search network (design §4). */
  readonly branchChannels: number;
  /** `96 / s`: 24, 12, 6, 3 at output strides 4, 8, 16, 32 (design §4). */
  readonly rate: number;
  readonly numClasses: number;
  readonly affine: boolean;
  readonly rng: Rng;
}

/** The supernet's per-level head: 1×1, 3×3 atrous, image pooling → 1×1 conv to class logits. */
export class SearchAspp extends ParallelBranches {
  /** The atrous rate of its 3×3 branch. */
  readonly rate: number;

  constructor({ inChannels, branchChannels, rate, numClasses, affine, rng }: SearchAsppOptions) {
    const branch = { inChannels, outChannels: branchChannels, affine, rng };
    const branches = [
      new ConvBnRelu({ ...branch, kernel: 1 }),
      new ConvBnRelu({ ...branch, kernel: 3, dilation: rate }),
      new ImagePooling(inChannels, branchChannels, affine, rng),
    ];
    super(branches, new Conv2d({ inChannels: 3 * branchChannels, outChannels: numClasses, kernel: 1, bias: true, rng }));
    this.rate = rate;
  }
}

/** The ASPP rate for an output stride in the search heads: 96 / s (design §4). */
export function searchAsppRate(outputStride: number): number {
  return 96 / outputStride;
}

export interface DeepLabV3AsppOptions {
  readonly inChannels: number;
  /** 256 in DeepLabv3. */
  readonly outChannels?: number;
  /** Three atrous rates; DeepLabv3 uses 6, 12, 18 at output stride 16 and twice that at 8. */
  readonly rates: readonly [number, number, number];
  /** Separable 3×3 branches, as DeepLab's `aspp_with_separable_conv` (its default). */
  readonly separable?: boolean;
  readonly rng: Rng;
}

/** The full DeepLabv3 ASPP of the retrain network (design §7), conv → BN → ReLU throughout. */
export class DeepLabV3Aspp extends ParallelBranches {
  constructor({ inChannels, outChannels = 256, rates, separable = false, rng }: DeepLabV3AsppOptions) {
    const branch = { inChannels, outChannels, affine: true, rng };
    const branches = [
      new ConvBnRelu({ ...branch, kernel: 1 }),
      ...rates.map((rate) =>
        separable
          ? new SeparableConvBnRelu({ inChannels, outChannels, kernel: 3, dilation: rate, rng })
          : new ConvBnRelu({ ...branch, kernel: 3, dilation: rate }),
      ),
      new ImagePooling(inChannels, outChannels, true, rng),
    ];
    super(branches, new ConvBnRelu({ inChannels: 5 * outChannels, outChannels, kernel: 1, affine: true, rng }));
  }
}
