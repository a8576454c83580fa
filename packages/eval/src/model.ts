import type * as tf from '@tensorflow/tfjs';
import type { Kernels } from '@adl/backend';

/** Anything that maps a normalised NHWC image batch to per-class logits at the same size. */
export interface InferenceModel {
  apply(x: tf.Tensor4D, ctx: { training: boolean; kernels: Kernels }): tf.Tensor4D;
}
