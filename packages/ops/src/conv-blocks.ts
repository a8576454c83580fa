import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { Sequential } from './layer.js';
import type { Rng } from '@adl/backend';
import { Relu } from './simple-layers.js';

export interface ConvBlockOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride?: number;
  readonly dilation?: number;
  readonly padding?: number;
  readonly affine: boolean;
  readonly rng: Rng;
}

/** ReLU → conv → BN: the order of every conv inside the search space (design §2, §3, §4). */
export class ReluConvBn extends Sequential {
  constructor(options: ConvBlockOptions) {
    super([new Relu(), new Conv2d(options), new BatchNorm(options.outChannels, { affine: options.affine })]);
  }
}

/** conv → BN → ReLU: the order of the stem and of the ASPP branches. */
export class ConvBnRelu extends Sequential {
  constructor(options: ConvBlockOptions) {
    super([new Conv2d(options), new BatchNorm(options.outChannels, { affine: options.affine }), new Relu()]);
  }
}
