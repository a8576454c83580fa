import * as tf from '@tensorflow/tfjs';
import { addCosts, Module, ReluConvBn, resizeBilinear, type Cost, type ForwardContext, type Size } from '@adl/ops';
import type { Rng } from '@adl/backend';

export interface CellInputChannels {
  /** Channels of `h_prev_prev` as it arrives. */
  readonly prevPrevChannels: number;
  /** Channels of `h_prev` as it arrives (already resampled to this cell's level). */
  readonly prevChannels: number;
  /** Channels of every block of this cell: `F·2^i` (design §1). */
  readonly channels: number;
}

/**
 * The two preprocessed inputs of a cell (design §3): each of `h_prev_prev` and `h_prev` goes through
 * ReLU → 1×1 conv → BN to `F·2^i` channels. An `h_prev_prev` of another size (the stem's stride-2
 * output for layer 0) is first resized bilinearly to `h_prev`'s size, as the DeepLab NAS code does.
 */
export class CellInputs extends Module {
  private readonly prevPrev: ReluConvBn;
  private readonly prev: ReluConvBn;

  constructor({ prevPrevChannels, prevChannels, channels }: CellInputChannels, affine: boolean, rng: Rng) {
    super();
    this.prevPrev = this.addChild(new ReluConvBn({ inChannels: prevPrevChannels, outChannels: channels, kernel: 1, affine, rng }));
    this.prev = this.addChild(new ReluConvBn({ inChannels: prevChannels, outChannels: channels, kernel: 1, affine, rng }));
  }

  /** `[s0, s1]`: hidden states 0 (from `h_prev_prev`) and 1 (from `h_prev`). */
  apply(hPrevPrev: tf.Tensor4D, hPrev: tf.Tensor4D, ctx: ForwardContext): [tf.Tensor4D, tf.Tensor4D] {
    const size: Size = [hPrev.shape[1], hPrev.shape[2]];
    return [this.prevPrev.apply(resizeBilinear(hPrevPrev, size), ctx), this.prev.apply(hPrev, ctx)];
  }

  cost(size: Size): Cost {
    return addCosts(this.prevPrev.cost(size), this.prev.cost(size));
  }
}
