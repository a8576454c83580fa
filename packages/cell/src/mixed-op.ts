import * as tf from '@tensorflow/tfjs';
import { addCosts, createOp, maybeRecompute, Module, PRIMITIVES, type Cost, type ForwardContext, type Layer } from '@adl/ops';
import type { Rng } from '@adl/backend';

/**
 * One edge of the search cell (design §3, DARTS): `Σ_k softmax(α_e)_k · op_k(x)` over the 8
 * candidate ops. `none` contributes zeros, so it is neither built nor computed; its weight still
 * takes its share of the softmax.
 */
export class MixedOp extends Module {
  /** `op_k` for k = 1..7: every primitive but `none` (k = 0), which adds nothing. */
  private readonly ops: readonly Layer[];

  /** Gradient checkpointing: keep only input and output for the backward pass, which runs the op again. */
  readonly recompute: boolean;

  constructor(channels: number, rng: Rng, { recompute = false }: { recompute?: boolean } = {}) {
    super();
    this.recompute = recompute;
    if (PRIMITIVES[0] !== 'none') throw new Error('MixedOp expects `none` as the first primitive');
    this.ops = this.addChildren(PRIMITIVES.slice(1).map((name) => createOp(name, { channels, mode: 'search', rng })));
  }

  /** `weights`: this edge's softmax(α) row, shape [8]. */
  apply(x: tf.Tensor4D, weights: tf.Tensor1D, ctx: ForwardContext): tf.Tensor4D {
    // The activations of its 7 ops are many times its input: recomputed, not kept.
    return maybeRecompute(this.recompute, ([input, w], c) => this.forward(input as tf.Tensor4D, w as tf.Tensor1D, c), [x, weights], this.trainableVariables(), ctx);
  }

  private forward(x: tf.Tensor4D, weights: tf.Tensor1D, ctx: ForwardContext): tf.Tensor4D {
    const terms = this.ops.map((op) => op.apply(x, ctx));
    // `none` is op 0 (asserted in the constructor): the other weights are one contiguous slice.
    return ctx.kernels.weightedSum(terms, tf.slice(weights, [1], [terms.length])) as tf.Tensor4D;
  }

  cost(input: readonly [number, number]): Cost {
    return addCosts(...this.ops.map((op) => op.cost(input)));
  }
}
