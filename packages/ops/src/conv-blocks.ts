import { BatchNorm } from './batch-norm.js';
import { Conv2d, type Conv2dOptions } from './conv2d.js';
import { Sequential } from './layer.js';
import { Relu } from './simple-layers.js';

/** A conv without bias (BN follows it), and whether that BN has a learnable scale and shift. */
export interface ConvBlockOptions extends Omit<Conv2dOptions, 'bias'> {
  readonly affine: boolean;
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
