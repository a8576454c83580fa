import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { ReluConvBn } from './conv-blocks.js';
import { Sequential, type Layer } from './layer.js';
import type { OpName } from './primitives.js';
import { BilinearHalf, FactorizedReduce } from './resample.js';
import type { Rng } from '@adl/backend';
import { SepConv } from './sep-conv.js';
import { AvgPool3x3, Identity, MaxPool3x3, Relu, Zero } from './simple-layers.js';
import { Subsample2 } from './subsample.js';

/**
 * `search`: BN without learnable affine, pools followed by a non-affine BN (as DARTS);
 * `fixed`: affine BN, pools bare (retraining). design §2.
 */
export type OpMode = 'search' | 'fixed';

export interface OpOptions {
  readonly channels: number;
  readonly mode: OpMode;
  readonly rng: Rng;
  /**
   * 2 in a reducing cell of the retrain network, for ops reading the cell inputs (as the DeepLab
   * NAS code): separable convs stride their first depthwise conv, atrous ops resize bilinearly to
   * half size and convolve at rate 1, pools keep every other pixel, skip becomes a factorized reduce.
   */
  readonly stride?: 1 | 2;
}

export type OpFactory = (options: OpOptions) => Layer;

/** Rate of the atrous ops (design §2: dense convs at rate 2, as the DeepLab NAS code). */
export const ATROUS_RATE = 2;

function pooled(pool: Layer, { channels, mode, stride = 1 }: OpOptions): Layer {
  const layers = stride === 2 ? [pool, new Subsample2()] : [pool];
  if (mode === 'search') layers.push(new BatchNorm(channels, { affine: false }));
  return new Sequential(layers);
}

function atrous(kernel: number, { channels, mode, rng, stride = 1 }: OpOptions): Layer {
  const affine = mode === 'fixed';
  if (stride === 2) {
    const conv = new Conv2d({ inChannels: channels, outChannels: channels, kernel, rng });
    return new Sequential([new Relu(), new BilinearHalf(), conv, new BatchNorm(channels, { affine })]);
  }
  return new ReluConvBn({ inChannels: channels, outChannels: channels, kernel, dilation: ATROUS_RATE, affine, rng });
}

function skip({ channels, mode, rng, stride = 1 }: OpOptions): Layer {
  if (stride === 1) return new Identity();
  return new FactorizedReduce({ inChannels: channels, outChannels: channels, affine: mode === 'fixed', rng });
}

function sepConv(kernel: number, { channels, mode, rng, stride = 1 }: OpOptions): Layer {
  return new SepConv({ channels, kernel, affine: mode === 'fixed', rng, stride });
}

/** The candidate operations, `channels` in and out, by name. */
export const OPS = {
  none: ({ stride = 1 }) => (stride === 2 ? new Sequential([new Subsample2(), new Zero()]) : new Zero()),
  max_pool_3x3: (options) => pooled(new MaxPool3x3(), options),
  avg_pool_3x3: (options) => pooled(new AvgPool3x3(), options),
  skip_connect: skip,
  sep_conv_3x3: (options) => sepConv(3, options),
  sep_conv_5x5: (options) => sepConv(5, options),
  atrous_conv_3x3: (options) => atrous(3, options),
  atrous_conv_5x5: (options) => atrous(5, options),
} as const satisfies Record<OpName, OpFactory>;

export function createOp(name: OpName, options: OpOptions): Layer {
  const factory: OpFactory | undefined = OPS[name];
  if (!factory) throw new RangeError(`unknown operation "${name}"`);
  return factory(options);
}
