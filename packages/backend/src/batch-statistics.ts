import * as tf from '@tensorflow/tfjs';

/** The input of a training-mode BatchNorm normalised with its own per-channel statistics. */
export interface BatchStatistics {
  /** `(x − mean) / √(variance + ε)`. */
  readonly normalised: tf.Tensor4D;
  /** Per-channel mean over N, H, W. */
  readonly mean: tf.Tensor1D;
  /** Per-channel biased variance over N, H, W. */
  readonly variance: tf.Tensor1D;
  /** The running statistics moved by this batch, where the kernel set computed them (see `Kernels`). */
  readonly running?: { readonly mean: tf.Tensor1D; readonly variance: tf.Tensor1D };
}

/** A training-mode BatchNorm with a learnable per-channel scale and offset, in one kernel. */
export interface AffineBatchNorm {
  /** `(x − mean) / √(variance + ε) · scale + offset`. */
  readonly output: tf.Tensor4D;
  readonly mean: tf.Tensor1D;
  readonly variance: tf.Tensor1D;
  /** As `BatchStatistics.running`. */
  readonly running?: { readonly mean: tf.Tensor1D; readonly variance: tf.Tensor1D };
}

/**
 * Batch statistics from elementwise ops, differentiable on every backend (`tf.batchNorm` without
 * offset/scale crashes under gradients).
 */
export function normaliseWithElementwiseOps(x: tf.Tensor4D, epsilon: number): BatchStatistics {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))) as tf.Tensor4D;
  return { normalised, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
