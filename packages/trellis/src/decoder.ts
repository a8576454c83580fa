import * as tf from '@tensorflow/tfjs';
import { addCosts, Conv2d, ConvBnRelu, Module, resizeBilinear, SeparableConvBnRelu, Sequential, type Cost, type ForwardContext, type Size } from '@adl/ops';
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
  /** The two 3×3 convs and the classifier (registered in that order, as checkpoints store them). */
  private readonly head: Sequential;

  constructor({ lowLevelChannels, asppChannels = 256, numClasses, separable = false, rng }: DeepLabV3PlusDecoderOptions) {
    super();
    this.projection = this.addChild(new ConvBnRelu({ inChannels: lowLevelChannels, outChannels: DECODER_PROJECTION_CHANNELS, kernel: 1, affine: true, rng }));
    const block = (inChannels: number) =>
      separable
        ? new SeparableConvBnRelu({ inChannels, outChannels: DECODER_CHANNELS, kernel: 3, rng })
        : new ConvBnRelu({ inChannels, outChannels: DECODER_CHANNELS, kernel: 3, affine: true, rng });
    // Made in this order: each draws its initial weights from rng in turn.
    const refine = [block(asppChannels + DECODER_PROJECTION_CHANNELS), block(DECODER_CHANNELS)];
    const classifier = new Conv2d({ inChannels: DECODER_CHANNELS, outChannels: numClasses, kernel: 1, bias: true, rng });
    this.head = this.addChild(new Sequential([...refine, classifier]));
  }

  /** Class logits at the stride-4 resolution. */
  apply(aspp: tf.Tensor4D, lowLevel: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const size: Size = [lowLevel.shape[1], lowLevel.shape[2]];
    const parts = [resizeBilinear(aspp, size), this.projection.apply(lowLevel, ctx)];
    const features = tf.concat(parts, 3);
    // In inference no gradient reads the intermediates: each goes as soon as it has been read (the
    // head, a Sequential, does the same inside).
    if (!ctx.training) tf.dispose(parts.filter((t) => t !== aspp));
    const logits = this.head.apply(features, ctx);
    if (!ctx.training) features.dispose();
    return logits;
  }

  /** Cost at the stride-4 size. */
  cost(size: Size): Cost {
    return addCosts(this.projection.cost(size), this.head.cost(size));
  }
}
