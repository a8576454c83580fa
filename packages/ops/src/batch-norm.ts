import * as tf from '@tensorflow/tfjs';
import { withoutTape, type RunningUpdate } from '@adl/backend';
import { newVariable } from './new-variable.js';
import { recompute } from './recompute.js';
import type { ChannelAffine, Cost, EvaluationAffine, ForwardContext, Layer, Size } from './layer.js';
import { Module } from './module.js';

export interface BatchNormOptions {
  /** Learnable scale and shift: false in search (as DARTS, design §2), true in retraining. */
  readonly affine: boolean;
  /** Weight of the newest batch in the running statistics (PyTorch convention). */
  readonly momentum?: number;
  readonly epsilon?: number;
}

export type BatchNormSettings = Required<Pick<BatchNormOptions, 'momentum' | 'epsilon'>>;

/** PyTorch's defaults, which search keeps (as DARTS). */
export const PYTORCH_BATCH_NORM: BatchNormSettings = { momentum: 0.1, epsilon: 1e-5 };

/**
 * Batch normalisation over N, H, W with running statistics. In training the normalisation with the
 * batch's statistics is the kernel set's `batchStatistics`, or with scale and offset its
 * `affineBatchNorm` where it has one (one fused kernel each way on onednn).
 */
export class BatchNorm extends Module implements Layer, EvaluationAffine {
  readonly gamma: tf.Variable<tf.Rank.R1> | undefined;
  readonly beta: tf.Variable<tf.Rank.R1> | undefined;
  readonly runningMean: tf.Variable<tf.Rank.R1>;
  readonly runningVariance: tf.Variable<tf.Rank.R1>;
  momentum: number;
  epsilon: number;

  constructor(
    readonly channels: number,
    readonly options: BatchNormOptions,
  ) {
    super();
    this.momentum = options.momentum ?? PYTORCH_BATCH_NORM.momentum;
    this.epsilon = options.epsilon ?? PYTORCH_BATCH_NORM.epsilon;
    if (options.affine) {
      this.gamma = this.addWeight(newVariable(() => tf.ones([channels]) as tf.Tensor1D));
      this.beta = this.addWeight(newVariable(() => tf.zeros([channels]) as tf.Tensor1D));
    }
    this.runningMean = this.addState(newVariable(() => tf.zeros([channels]) as tf.Tensor1D, false));
    this.runningVariance = this.addState(newVariable(() => tf.ones([channels]) as tf.Tensor1D, false));
  }

  /** Sets the running-statistics momentum and epsilon (a network applies its recipe's to all its BNs). */
  configure({ momentum, epsilon }: BatchNormSettings): void {
    this.momentum = momentum;
    this.epsilon = epsilon;
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    if (!ctx.training) {
      // Per-channel scale and shift folded first: two passes over the activation instead of four.
      return tf.tidy(() => {
        const { scale, shift } = this.evaluationAffine();
        return tf.add(tf.mul(x, scale), shift);
      });
    }
    const { gamma, beta } = this;
    if (!gamma || !beta) return this.normalise(x, ctx);
    if (ctx.kernels.affineBatchNorm) {
      // One kernel each way, keeping x and the statistics for the gradient.
      const batch = ctx.kernels.affineBatchNorm(x, gamma, beta, this.epsilon, this.runningUpdate(x, ctx));
      this.updateRunningStatistics(batch, x, ctx);
      return batch.output;
    }
    // Recomputed in the backward pass, so that only x is kept for it (as PyTorch's BatchNorm keeps),
    // not also the normalised tensor that the scale's gradient reads; the same kernels run on the
    // same x again, so the gradients are unchanged.
    return recompute(([input], inner) => tf.add(tf.mul(this.normalise(input as tf.Tensor4D, inner), gamma), beta), [x], [gamma, beta], ctx);
  }

  /** Evaluation's normalisation as y = x · scale + shift, from the running statistics (and γ, β). */
  evaluationAffine(): ChannelAffine {
    return tf.tidy(() => {
      const normalising = tf.rsqrt(tf.add(this.runningVariance, this.epsilon));
      const scale = this.gamma ? tf.mul(normalising, this.gamma) : normalising;
      return { scale: scale as tf.Tensor1D, shift: tf.sub(this.beta ?? 0, tf.mul(this.runningMean, scale)) as tf.Tensor1D };
    });
  }

  /** Batch statistics, updating the running ones. */
  private normalise(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const batch = ctx.kernels.batchStatistics(x, this.epsilon, this.runningUpdate(x, ctx));
    this.updateRunningStatistics(batch, x, ctx);
    return batch.normalised;
  }

  /** What a kernel needs to move the running statistics by this batch; none when recomputing (moved once). */
  private runningUpdate(x: tf.Tensor4D, ctx: ForwardContext): RunningUpdate | undefined {
    if (ctx.recomputing) return undefined;
    const count = x.size / this.channels;
    return { mean: this.runningMean, variance: this.runningVariance, momentum: this.momentum, unbiased: count > 1 ? count / (count - 1) : 1 };
  }

  /** Folds a training batch's statistics into the running ones, once: not again when recomputing. */
  private updateRunningStatistics({ mean, variance, running }: { mean: tf.Tensor; variance: tf.Tensor; running?: { mean: tf.Tensor1D; variance: tf.Tensor1D } }, x: tf.Tensor4D, ctx: ForwardContext): void {
    if (ctx.recomputing) return;
    if (running) {
      // The kernel moved them already.
      this.runningMean.assign(running.mean);
      this.runningVariance.assign(running.variance);
      tf.dispose([running.mean, running.variance]);
      return;
    }
    const { kernels } = ctx;
    const { momentum: m, unbiased } = this.runningUpdate(x, ctx)!;
    // The loss never reads these, so no gradient flows through them: computed off the tape.
    withoutTape(() => tf.tidy(() => {
      this.runningMean.assign(kernels.weightedSum([this.runningMean, mean], [1 - m, m]) as tf.Tensor1D);
      this.runningVariance.assign(kernels.weightedSum([this.runningVariance, variance], [1 - m, m * unbiased]) as tf.Tensor1D);
    }));
  }

  outputSize(input: Size): Size {
    return input;
  }

  cost(): Cost {
    return { params: this.options.affine ? 2 * this.channels : 0, multAdds: 0, tfMultAdds: 0 };
  }
}
