import type * as tf from '@tensorflow/tfjs';
import type { AffineBatchNorm, BatchStatistics } from './batch-statistics.js';
import type { SumWeights } from './weighted-sum.js';

/**
 * A BatchNorm's running statistics and how a training batch moves them: `(1 − momentum) · running +
 * momentum · batch`, the batch's variance times `unbiased` (n / (n − 1)).
 */
export interface RunningUpdate {
  readonly mean: tf.Tensor1D;
  readonly variance: tf.Tensor1D;
  readonly momentum: number;
  readonly unbiased: number;
}

/** Symmetric zero padding, stride and dilation of a convolution. */
export interface ConvGeometry {
  readonly stride: number;
  readonly dilation: number;
  readonly padding: number;
}

/**
 * The convolution and pooling primitives every layer is written against. Three sets are here:
 * `stockKernels` (tfjs's own ops; fastest where the backend has every gradient kernel),
 * `portableKernels` (built from slices, matMul and elementwise ops only, so gradients exist on
 * every backend) and `nativeKernels` (the backend's forward conv kernels, gradients written as
 * forward convs: no backprop kernel needed). A backend package may register its own set for its
 * backend (`registerKernelSet`: `@adl/onednn` does). `kernelsFor(backendName)` picks one.
 */
export interface Kernels {
  /** How `ADL_KERNELS` and logs name the set. */
  readonly name: string;
  /** The tfjs backend the set runs on only, where it needs one. */
  readonly backend?: string;
  /** Dense convolution, NHWC input, filter `[k, k, in, out]`. */
  conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, geometry: ConvGeometry): tf.Tensor4D;
  /** 1×1 convolution, filter `[1, 1, in, out]`. */
  pointwiseConv(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D;
  /** Depthwise convolution at stride 1 with "same" padding, filter `[k, k, channels, 1]`. */
  depthwiseConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, dilation: number): tf.Tensor4D;
  /** 3×3 max pool, stride 1, padding 1 (padding never wins). */
  maxPool3x3(x: tf.Tensor4D): tf.Tensor4D;
  /** 3×3 average pool, stride 1, padding 1, padded cells not counted. */
  avgPool3x3(x: tf.Tensor4D): tf.Tensor4D;
  /**
   * Training-mode batch normalisation without scale/shift, with the batch's statistics. Given `running`,
   * a set may also return the moved running statistics (`running` of the result), computed in the same
   * kernel; where it does not, layers move them with two weighted sums.
   */
  batchStatistics(x: tf.Tensor4D, epsilon: number, running?: RunningUpdate): BatchStatistics;
  /**
   * Training-mode batch normalisation with a scale and offset, where the set has it as one kernel each
   * way that keeps only `x` (and the statistics) for the gradient; without it, layers compose
   * `batchStatistics` with a scale and shift.
   */
  affineBatchNorm?(x: tf.Tensor4D, scale: tf.Tensor1D, offset: tf.Tensor1D, epsilon: number, running?: RunningUpdate): AffineBatchNorm;
  /** `Σ_i weights[i] · terms[i]` over same-shaped float32 terms (mixed ops, running averages). */
  weightedSum(terms: readonly tf.Tensor[], weights: SumWeights): tf.Tensor;
  /**
   * The weighted sums of E edges side by side (`weights` `[E, K]`): `out[…, e·C + c] = Σ_k weights[e, k] ·
   * terms[k][…, e·C + c]`, a term of C channels (not E·C) being the same for every edge. The mixed ops
   * of the search edges that read one state (`StateEdges` of `@adl/cell`).
   */
  edgeWeightedSum(terms: readonly tf.Tensor4D[], weights: tf.Tensor2D): tf.Tensor4D;
}

export function convOutputLength(input: number, kernel: number, geometry: ConvGeometry): number {
  const { stride, dilation, padding } = geometry;
  return Math.floor((input + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

export function assertSamePadding(kernel: number, dilation: number, padding: number): void {
  if (2 * padding !== dilation * (kernel - 1)) {
    throw new RangeError(
      `padding ${padding} is not "same" for a ${kernel}×${kernel} kernel at dilation ${dilation}`,
    );
  }
}
