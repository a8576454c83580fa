import * as tf from '@tensorflow/tfjs';
import { newVariable } from './new-variable.js';
import { convOutputLength, type ConvGeometry } from '@adl/backend';
import { convCost, type Cost, type EvaluationAffine, type FoldsChannelAffine, type ForwardContext, type Layer, type Size } from './layer.js';
import { Module } from './module.js';
import type { Rng } from '@adl/backend';
import { halfSize, subsample2 } from './subsample.js';

export interface Conv2dOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride?: number;
  readonly dilation?: number;
  /** Defaults to "same": `dilation · (kernel − 1) / 2`. */
  readonly padding?: number;
  /** Only the classifier convs of the heads have a bias; every other conv is followed by BN. */
  readonly bias?: boolean;
  readonly rng: Rng;
}

/** He-normal (fan-in) initial values, std = √(2 / fan_in). */
export function heNormal(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normalArray(size, Math.sqrt(2 / fanIn)), shape);
}

/** A dense convolution, without bias unless asked (every conv in the search space is followed by BN). */
export class Conv2d extends Module implements Layer, FoldsChannelAffine {
  readonly filter: tf.Variable<tf.Rank.R4>;
  readonly bias: tf.Variable<tf.Rank.R1> | undefined;
  readonly geometry: ConvGeometry;

  constructor(readonly options: Conv2dOptions) {
    super();
    const { inChannels, outChannels, kernel, rng } = options;
    const dilation = options.dilation ?? 1;
    this.geometry = {
      stride: options.stride ?? 1,
      dilation,
      padding: options.padding ?? (dilation * (kernel - 1)) / 2,
    };
    this.filter = this.addWeight(newVariable(() => heNormal(rng, [kernel, kernel, inChannels, outChannels], kernel * kernel * inChannels) as tf.Tensor4D));
    if (options.bias) this.bias = this.addWeight(newVariable(() => tf.zeros([outChannels]) as tf.Tensor1D));
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const out = this.convolve(x, this.filter, ctx);
    return this.bias ? tf.add(out, this.bias) : out;
  }

  /**
   * conv(x) · scale + shift as conv(x, filter · scale) + (bias · scale + shift): a following
   * BatchNorm in evaluation, folded (the same values up to float rounding, one pass fewer).
   */
  applyFolding(x: tf.Tensor4D, following: EvaluationAffine, ctx: ForwardContext): tf.Tensor4D {
    return tf.tidy(() => {
      const { scale, shift } = following.evaluationAffine();
      const out = this.convolve(x, tf.mul(this.filter, scale) as tf.Tensor4D, ctx);
      return tf.add(out, this.bias ? tf.add(tf.mul(this.bias, scale), shift) : shift);
    });
  }

  private convolve(x: tf.Tensor4D, filter: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const pointwise = this.options.kernel === 1 && this.geometry.stride === 1 && this.geometry.padding === 0;
    return pointwise ? ctx.kernels.pointwiseConv(x, filter) : ctx.kernels.conv2d(x, filter, this.geometry);
  }

  outputSize([height, width]: Size): Size {
    const { kernel } = this.options;
    return [convOutputLength(height, kernel, this.geometry), convOutputLength(width, kernel, this.geometry)];
  }

  cost(input: Size): Cost {
    const { kernel, inChannels, outChannels } = this.options;
    const weights = kernel * kernel * inChannels * outChannels;
    return convCost(weights + (this.bias ? outChannels : 0), weights, this.outputSize(input), this.geometry.dilation);
  }

}

/**
 * A depthwise convolution (one k×k filter per channel) with "same" padding; stride 2 keeps every
 * other row and column of the stride-1 result (identical to a symmetric-padded stride-2 conv).
 */
export class DepthwiseConv2d extends Module implements Layer {
  readonly filter: tf.Variable<tf.Rank.R4>;

  constructor(
    readonly channels: number,
    readonly kernel: number,
    readonly dilation: number,
    rng: Rng,
    readonly stride: 1 | 2 = 1,
  ) {
    super();
    this.filter = this.addWeight(newVariable(() => heNormal(rng, [kernel, kernel, channels, 1], kernel * kernel) as tf.Tensor4D));
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const out = ctx.kernels.depthwiseConv2d(x, this.filter, this.dilation);
    return this.stride === 2 ? subsample2(out) : out;
  }

  outputSize(input: Size): Size {
    return this.stride === 2 ? halfSize(input) : input;
  }

  cost(input: Size): Cost {
    const params = this.kernel * this.kernel * this.channels;
    return convCost(params, params, this.outputSize(input), this.dilation);
  }
}
