import * as tf from '@tensorflow/tfjs';

/** Weights of `weightedSum`: a tensor (differentiated) or plain numbers (constants). */
export type SumWeights = tf.Tensor1D | readonly number[];

/** `Σ_i weights[i] · terms[i]` from elementwise ops, differentiable on every backend. */
export function weightedSumOfElementwiseOps(terms: readonly tf.Tensor[], weights: SumWeights): tf.Tensor {
  const scaled = terms.map((term, i) => tf.mul(term, Array.isArray(weights) ? weights[i] : tf.slice(weights as tf.Tensor1D, [i], [1])));
  return scaled.length === 1 ? scaled[0] : tf.addN(scaled);
}
