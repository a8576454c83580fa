import type * as tf from '@tensorflow/tfjs';
import { ConvBnRelu } from './conv-blocks.js';
import { addCosts, type Cost, type ForwardContext, type Size } from './layer.js';
import { Module } from './module.js';
import type { Rng } from '@adl/backend';

export interface StemOutputs {
  /** Output of the second conv (stride 2, 64 channels): `h_prev_prev` of layer 0 (design §4). */
  readonly stride2: tf.Tensor4D;
  /** Output of the third conv (stride 4, 128 channels): level 0, `h_prev` of layer 0. */
  readonly stride4: tf.Tensor4D;
}

export const STEM_CHANNELS = [64, 64, 128] as const;

/**
 * Three 3×3 conv → BN → ReLU, strides 2, 1, 2 (3 → 64 → 64 → 128), design §4 and §7.
 */
export class Stem extends Module {
  readonly convs: readonly ConvBnRelu[];

  constructor({ affine, rng, inChannels = 3 }: { affine: boolean; rng: Rng; inChannels?: number }) {
    super();
    const [c0, c1, c2] = STEM_CHANNELS;
    this.convs = this.addChildren([
      new ConvBnRelu({ inChannels, outChannels: c0, kernel: 3, stride: 2, affine, rng }),
      new ConvBnRelu({ inChannels: c0, outChannels: c1, kernel: 3, affine, rng }),
      new ConvBnRelu({ inChannels: c1, outChannels: c2, kernel: 3, stride: 2, affine, rng }),
    ]);
  }

  apply(image: tf.Tensor4D, ctx: ForwardContext): StemOutputs {
    const stride2 = this.convs[1].apply(this.convs[0].apply(image, ctx), ctx);
    return { stride2, stride4: this.convs[2].apply(stride2, ctx) };
  }

  outputSizes(input: Size): { stride2: Size; stride4: Size } {
    const stride2 = this.convs[1].outputSize(this.convs[0].outputSize(input));
    return { stride2, stride4: this.convs[2].outputSize(stride2) };
  }

  cost(input: Size): Cost {
    const first = this.convs[0].outputSize(input);
    return addCosts(this.convs[0].cost(input), this.convs[1].cost(first), this.convs[2].cost(first));
  }
}
