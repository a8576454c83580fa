import * as tf from '@tensorflow/tfjs';
import { addCosts, createOp, maybeRecompute, Module, PRIMITIVES, reluSavingOutput, startsWithRelu, type Cost, type ForwardContext, type Layer, type Sequential } from '@adl/ops';
import type { Rng } from '@adl/backend';

export interface MixedOpOptions {
  /** Gradient checkpointing: keep only input and output for the backward pass, which runs the op again. */
  readonly recompute?: boolean;
  /**
   * K of a partial-channel search (PC-DARTS, Xu et al. 2020), beyond the paper: only the first 1/K of
   * the channels go through the candidate ops, the rest pass by, and the channels are then shuffled
   * (K groups) so that the next edge samples others. 1 (the default) is the paper's mixed op.
   */
  readonly partialChannels?: number;
}

/**
 * One edge of the search cell (design §3, DARTS): `Σ_k softmax(α_e)_k · op_k(x)` over the 8
 * candidate ops. `none` contributes zeros, so it is neither built nor computed; its weight still
 * takes its share of the softmax.
 */
export class MixedOp extends Module {
  /** `op_k` for k = 1..7: every primitive but `none` (k = 0), which adds nothing. */
  private readonly ops: readonly Layer[];
  /** Whether op k begins with a ReLU of the edge's input (the separable and dilated convs): computed once for all. */
  private readonly reluFirst: readonly boolean[];

  readonly recompute: boolean;
  readonly partialChannels: number;
  readonly channels: number;

  constructor(channels: number, rng: Rng, { recompute = false, partialChannels = 1 }: MixedOpOptions = {}) {
    super();
    if (!Number.isInteger(partialChannels) || partialChannels < 1 || channels % partialChannels !== 0) {
      throw new RangeError(`partialChannels must be a positive integer dividing the channels (${channels}), got ${partialChannels}`);
    }
    this.recompute = recompute;
    this.partialChannels = partialChannels;
    this.channels = channels;
    if (PRIMITIVES[0] !== 'none') throw new Error('MixedOp expects `none` as the first primitive');
    this.ops = this.addChildren(PRIMITIVES.slice(1).map((name) => createOp(name, { channels: channels / partialChannels, mode: 'search', rng })));
    this.reluFirst = this.ops.map(startsWithRelu);
  }

  /** `weights`: this edge's softmax(α) row, shape [8]. */
  apply(x: tf.Tensor4D, weights: tf.Tensor1D, ctx: ForwardContext): tf.Tensor4D {
    // The activations of its 7 ops are many times its input: recomputed, not kept.
    return maybeRecompute(this.recompute, ([input, w], c) => this.forward(input as tf.Tensor4D, w as tf.Tensor1D, c), [x, weights], this.trainableVariables(), ctx);
  }

  private forward(x: tf.Tensor4D, weights: tf.Tensor1D, ctx: ForwardContext): tf.Tensor4D {
    if (this.partialChannels === 1) return this.mix(x, weights, ctx);
    const sampled = this.channels / this.partialChannels;
    const [through, bypass] = tf.split(x, [sampled, this.channels - sampled], 3) as tf.Tensor4D[];
    return channelShuffle(tf.concat([this.mix(through, weights, ctx), bypass], 3), this.partialChannels);
  }

  private mix(x: tf.Tensor4D, weights: tf.Tensor1D, ctx: ForwardContext): tf.Tensor4D {
    // One ReLU of x for the four convolution candidates, and one gradient through it.
    const activated = this.reluFirst.some(Boolean) ? reluSavingOutput(x) : undefined;
    const terms = this.ops.map((op, k) => (this.reluFirst[k] ? (op as Sequential).applyAfterFirst(activated!, ctx) : op.apply(x, ctx)));
    // `none` is op 0 (asserted in the constructor): the other weights are one contiguous slice.
    return ctx.kernels.weightedSum(terms, tf.slice(weights, [1], [terms.length])) as tf.Tensor4D;
  }

  /** The candidate ops' cost (on 1/K of the channels in a partial-channel search). */
  cost(input: readonly [number, number]): Cost {
    return addCosts(...this.ops.map((op) => op.cost(input)));
  }
}

/**
 * Channel c = g·(C/K) + i moves to i·K + g (PC-DARTS's `channel_shuffle` with K groups): the channels
 * that went through the ops are spread over the whole tensor.
 */
export function channelShuffle(x: tf.Tensor4D, groups: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.reshape(tf.transpose(tf.reshape(x, [n, h, w, groups, c / groups]), [0, 1, 2, 4, 3]), [n, h, w, c]);
}
