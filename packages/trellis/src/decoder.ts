import * as tf from '@tensorflow/tfjs';
import { addCosts, Conv2d, ConvBnRelu, Module, resizeBilinear, SeparableConvBnRelu, type Cost, type ForwardContext, type Layer, type Size } from '@adl/ops';
import type { Rng } from '@adl/backend';

export interface DeepLabV3PlusDecoderOptions {
  /** Channels of the stride-4 features. */
  readonly lowLevelChannels: number;
  /** Channels of the ASPP output (256). */
  readonly asppChannels?: number;
  readonly numClasses: number;
  /** Separable 3×3 convs, as DeepLab's `decoder_use_separable_conv` (its default). */
  readonly separable?: boolean;
  readonly rng: Rng;
}

/** DeepLabv3+ reduces the stride-4 features to 48 channels before concatenation. */
export const DECODER_PROJECTION_CHANNELS = 48;
/** Width of the decoder's two 3×3 convs. */
export const DECODER_CHANNELS = 256;

/**
 * The DeepLabv3+ decoder (design §7): project the stride-4 features to 48 channels, upsample the ASPP
 * output to their size, concatenate, two 3×3 conv-BN-ReLU of 256, then a 1×1 classifier.
 */
export class DeepLabV3PlusDecoder extends Module {
  private readonly projection: ConvBnRelu;
  private readonly refine: Layer[];
  private readonly classifier: Conv2d;

  constructor({ lowLevelChannels, asppChannels = 256, numClasses, separable = false, rng }: DeepLabV3PlusDecoderOptions) {
    super();
    this.projection = this.addChild(new ConvBnRelu({ inChannels: lowLevelChannels, outChannels: DECODER_PROJECTION_CHANNELS, kernel: 1, affine: true, rng }));
    const block = (inChannels: number) =>
      separable
        ? new SeparableConvBnRelu({ inChannels, outChannels: DECODER_CHANNELS, kernel: 3, rng })
        : new ConvBnRelu({ inChannels, outChannels: DECODER_CHANNELS, kernel: 3, affine: true, rng });
    this.refine = this.addChildren([block(asppChannels + DECODER_PROJECTION_CHANNELS), block(DECODER_CHANNELS)]);
    this.classifier = this.addChild(new Conv2d({ inChannels: DECODER_CHANNELS, outChannels: numClasses, kernel: 1, bias: true, rng }));
  }

  /** Class logits at the stride-4 resolution. */
  apply(aspp: tf.Tensor4D, lowLevel: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const size: Size = [lowLevel.shape[1], lowLevel.shape[2]];
    // In inference no gradient reads the intermediates: each goes as soon as it has been read.
    const release = (used: tf.Tensor[]) => (ctx.training ? undefined : tf.dispose(used));
    const parts = [resizeBilinear(aspp, size), this.projection.apply(lowLevel, ctx)];
    let features = tf.concat(parts, 3);
    release(parts.filter((t) => t !== aspp));
    for (const layer of this.refine) {
      const next = layer.apply(features, ctx);
      release([features]);
      features = next;
    }
    const logits = this.classifier.apply(features, ctx);
    release([features]);
    return logits;
  }

  private layers(): Layer[] {
    return [this.projection, ...this.refine, this.classifier];
  }

  /** Cost at the stride-4 size. */
  cost(size: Size): Cost {
    return addCosts(...this.layers().map((layer) => layer.cost(size)));
  }
}
