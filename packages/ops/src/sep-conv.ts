import { BatchNorm } from './batch-norm.js';
import { Conv2d, DepthwiseConv2d } from './conv2d.js';
import { Sequential } from './layer.js';
import type { Rng } from '@adl/backend';
import { Relu } from './simple-layers.js';

export interface SepConvOptions {
  readonly channels: number;
  readonly kernel: number;
  readonly affine: boolean;
  readonly rng: Rng;
  /** 2: the first depthwise conv is strided (a reducing cell in the retrain network). */
  readonly stride?: 1 | 2;
}

/**
 * `sep_conv_k×k` (design §2): (ReLU, depthwise k×k, pointwise 1×1, BN) applied twice, as DARTS's
 * `SepConv` and the DeepLab NAS code's `separable_k×k_2`.
 */
export class SepConv extends Sequential {
  constructor({ channels, kernel, affine, rng, stride = 1 }: SepConvOptions) {
    const half = (depthwiseStride: 1 | 2) => [
      new Relu(),
      new DepthwiseConv2d(channels, kernel, 1, rng, depthwiseStride),
      new Conv2d({ inChannels: channels, outChannels: channels, kernel: 1, rng }),
      new BatchNorm(channels, { affine }),
    ];
    super([...half(stride), ...half(1)]);
  }
}
