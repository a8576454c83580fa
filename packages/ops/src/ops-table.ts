import { BatchNorm } from './batch-norm.js';
import { ReluConvBn } from './conv-blocks.js';
import { Sequential, type Layer } from './layer.js';
import type { OpName } from './primitives.js';
import type { Rng } from './rng.js';
import { SepConv } from './sep-conv.js';
import { AvgPool3x3, Identity, MaxPool3x3, Zero } from './simple-layers.js';

/**
 * `search`: BN without learnable affine, pools followed by a non-affine BN (as DARTS);
 * `fixed`: affine BN, pools bare (retraining). SPEC §2.
 */
export type OpMode = 'search' | 'fixed';

export interface OpOptions {
  readonly channels: number;
  readonly mode: OpMode;
  readonly rng: Rng;
}

export type OpFactory = (options: OpOptions) => Layer;

/** Rate of the atrous ops (SPEC §2: dense convs at rate 2, as the DeepLab NAS code). */
export const ATROUS_RATE = 2;

function pooled(pool: Layer, { channels, mode }: OpOptions): Layer {
  return mode === 'search' ? new Sequential([pool, new BatchNorm(channels, { affine: false })]) : pool;
}

function atrous(kernel: number, { channels, mode, rng }: OpOptions): Layer {
  return new ReluConvBn({
    inChannels: channels,
    outChannels: channels,
    kernel,
    dilation: ATROUS_RATE,
    affine: mode === 'fixed',
    rng,
  });
}

/** The candidate operations at stride 1, `channels` in and out, by name. */
export const OPS = {
  none: () => new Zero(),
  max_pool_3x3: (options) => pooled(new MaxPool3x3(), options),
  avg_pool_3x3: (options) => pooled(new AvgPool3x3(), options),
  skip_connect: () => new Identity(),
  sep_conv_3x3: ({ channels, mode, rng }) => new SepConv({ channels, kernel: 3, affine: mode === 'fixed', rng }),
  sep_conv_5x5: ({ channels, mode, rng }) => new SepConv({ channels, kernel: 5, affine: mode === 'fixed', rng }),
  atrous_conv_3x3: (options) => atrous(3, options),
  atrous_conv_5x5: (options) => atrous(5, options),
} as const satisfies Record<OpName, OpFactory>;

export function createOp(name: OpName, options: OpOptions): Layer {
  const factory: OpFactory | undefined = OPS[name];
  if (!factory) throw new RangeError(`unknown operation "${name}"`);
  return factory(options);
}
