import { BatchNorm } from './batch-norm.js';
import { Conv2d, DepthwiseConv2d } from './conv2d.js';
import { Sequential } from './layer.js';
import type { Rng } from '@adl/backend';
import { Relu } from './simple-layers.js';

export interface SeparableConvBnReluOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly dilation?: number;
  readonly rng: Rng;
}

/**
 * DeepLab's split separable conv (ASPP and decoder with `*_use_separable_conv`): depthwise k×k
 * (dilated) → BN → ReLU → pointwise → BN → ReLU, affine BN.
 */
export class SeparableConvBnRelu extends Sequential {
  constructor({ inChannels, outChannels, kernel, dilation = 1, rng }: SeparableConvBnReluOptions) {
    super([
      new DepthwiseConv2d(inChannels, kernel, dilation, rng),
      new BatchNorm(inChannels, { affine: true }),
      new Relu(),
      new Conv2d({ inChannels, outChannels, kernel: 1, rng }),
      new BatchNorm(outChannels, { affine: true }),
      new Relu(),
    ]);
  }
}
