import * as tf from '@tensorflow/tfjs';

/** Weights of `weightedSum`: a tensor (differentiated) or plain numbers (constants). */
export type SumWeights = tf.Tensor1D | readonly number[];

/** `Σ_i weights[i] · terms[i]` from elementwise ops, differentiable on every backend. */
export function weightedSumOfElementwiseOps(terms: readonly tf.Tensor[], weights: SumWeights): tf.Tensor {
  const scaled = terms.map((term, i) => tf.mul(term, Array.isArray(weights) ? weights[i] : tf.slice(weights as tf.Tensor1D, [i], [1])));
  return scaled.length === 1 ? scaled[0] : tf.addN(scaled);
}

/**
 * `out[…, e·C + c] = Σ_k weights[e, k] · terms[k][…, e·C + c]` for E edges (`weights` `[E, K]`),
 * where a term of C channels rather than E·C is the same for every edge: the mixed ops of the E
 * search edges reading one state, side by side (see `Kernels.edgeWeightedSum`). From broadcasting
 * elementwise ops, differentiable on every backend.
 */
export function edgeWeightedSumOfElementwiseOps(terms: readonly tf.Tensor4D[], weights: tf.Tensor2D): tf.Tensor4D {
  const { edges, channels, width } = edgeSumShape(terms, weights);
  const [n, h, w] = terms[0].shape;
  const columns = tf.split(weights, terms.length, 1);
  const products = terms.map((term, k) => tf.mul(tf.reshape(term, [n * h * w, term.shape[3] === width ? edges : 1, channels]), tf.reshape(columns[k], [1, edges, 1])));
  return tf.reshape(tf.addN(products), [n, h, w, width]) as tf.Tensor4D;
}

/** E, C and E·C of an edge-weighted sum, checking that every term is `[N, H, W, C or E·C]` and `weights` `[E, terms]`. */
export function edgeSumShape(terms: readonly { shape: number[] }[], weights: { shape: number[] }): { edges: number; channels: number; width: number } {
  const [edges, count] = weights.shape;
  const width = Math.max(...terms.map((t) => t.shape[3]));
  const channels = width / edges;
  const [n, h, w] = terms[0].shape;
  if (weights.shape.length !== 2 || count !== terms.length || !Number.isInteger(channels)) {
    throw new RangeError(`edgeWeightedSum: weights [${weights.shape}] for ${terms.length} terms of up to ${width} channels`);
  }
  for (const t of terms) {
    if (t.shape.length !== 4 || t.shape[0] !== n || t.shape[1] !== h || t.shape[2] !== w || (t.shape[3] !== channels && t.shape[3] !== width)) {
      throw new RangeError(`edgeWeightedSum: a term of shape [${t.shape}] among terms [${n}, ${h}, ${w}, ${channels} or ${width}]`);
    }
  }
  return { edges, channels, width };
}
