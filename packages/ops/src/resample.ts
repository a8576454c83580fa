import * as tf from '@tensorflow/tfjs';
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { ReluConvBn } from './conv-blocks.js';
import { addCosts, type Cost, type ForwardContext, type Layer, type Size } from './layer.js';
import { Module } from './module.js';
import { resizeBilinear } from './resize-bilinear.js';
import type { Rng } from '@adl/backend';
import { StatelessLayer } from './simple-layers.js';
import { halfSize } from './subsample.js';

export interface ResampleOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly affine: boolean;
  readonly rng: Rng;
}

/** Into the next coarser level (design §4): ReLU, 3×3 conv at stride 2, BN. */
export class Downsample extends ReluConvBn {
  constructor({ inChannels, outChannels, affine, rng }: ResampleOptions) {
    super({ inChannels, outChannels, kernel: 3, stride: 2, affine, rng });
  }
}

/**
 * Bilinear resize to ⌈n / 2⌉ (corners aligned): how the DeepLab NAS code strides its atrous ops in a
 * reducing cell, before a rate-1 conv.
 */
export class BilinearHalf extends StatelessLayer {
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return resizeBilinear(x, halfSize([x.shape[1], x.shape[2]]));
  }

  override outputSize(input: Size): Size {
    return halfSize(input);
  }
}

/** The default spatial size one level finer: twice as large (pass the exact size where it is known). */
export function finerSize([height, width]: Size): Size {
  return [2 * height, 2 * width];
}

/**
 * From the next coarser level (design §4): bilinear upsampling to the finer level's size, then
 * ReLU, 1×1 conv, BN. Pass the target size, since a stride-2 conv maps both 2n and 2n − 1 to n.
 */
export class UpsampleConv extends Module implements Layer {
  private readonly block: ReluConvBn;

  constructor({ inChannels, outChannels, affine, rng }: ResampleOptions) {
    super();
    this.block = this.addChild(new ReluConvBn({ inChannels, outChannels, kernel: 1, affine, rng }));
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext, target?: Size): tf.Tensor4D {
    const size = target ?? finerSize([x.shape[1], x.shape[2]]);
    return this.block.apply(resizeBilinear(x, size), ctx);
  }

  outputSize(input: Size): Size {
    return finerSize(input);
  }

  /** Cost at the output resolution (the 1×1 conv runs after upsampling). */
  cost(input: Size, target: Size = finerSize(input)): Cost {
    return this.block.cost(target);
  }
}

/**
 * DARTS's factorized reduce: ReLU, two 1×1 stride-2 convs (one shifted by a pixel) each giving half
 * the channels, concatenated, BN. Halves the size with no information dropped on even sizes.
 */
export class FactorizedReduce extends Module implements Layer {
  private readonly convs: Conv2d[];
  private readonly norm: BatchNorm;

  constructor({ inChannels, outChannels, affine, rng }: ResampleOptions) {
    super();
    if (outChannels % 2 !== 0) throw new RangeError(`FactorizedReduce needs even outChannels, got ${outChannels}`);
    const half = { inChannels, outChannels: outChannels / 2, kernel: 1, stride: 2, padding: 0, rng };
    this.convs = this.addChildren([new Conv2d(half), new Conv2d(half)]);
    this.norm = this.addChild(new BatchNorm(outChannels, { affine }));
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const [batch, height, width, channels] = x.shape;
    const activated = tf.relu(x);
    const shifted = tf.pad(
      tf.slice(activated, [0, 1, 1, 0], [batch, height - 1, width - 1, channels]),
      [
        [0, 0],
        [0, 1],
        [0, 1],
        [0, 0],
      ],
    );
    const both = tf.concat([this.convs[0].apply(activated, ctx), this.convs[1].apply(shifted, ctx)], 3);
    return this.norm.apply(both, ctx);
  }

  outputSize(input: Size): Size {
    return this.convs[0].outputSize(input);
  }

  cost(input: Size): Cost {
    return addCosts(this.convs[0].cost(input), this.convs[1].cost(input), this.norm.cost());
  }
}
