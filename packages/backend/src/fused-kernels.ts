import * as tf from '@tensorflow/tfjs';
import type { SumWeights } from './weighted-sum.js';

/**
 * Kernels that a backend may implement in one pass each, where tfjs's ops take many: 3×3 pools
 * (attr `mode`: 'max' or 'avg'), training-mode batch statistics (attr `epsilon`; outputs normalised,
 * mean, variance) and weighted sums. The names and gradients are shared; each backend registers its
 * own forward and gradient kernels (`@adl/onednn` compiled C++, the webgpu set WGSL).
 */
export const POOL_KERNELS = { forward: 'AdlPool3x3', gradient: 'AdlPool3x3Grad' } as const;
/**
 * Input `{ x }` (attr `epsilon`), outputs `[normalised, mean, variance]`; the gradient kernel takes
 * `{ dy, x, mean, variance }`. A backend may also take `{ runningMean, runningVariance }` (attrs
 * `momentum`, `unbiased`) and return the running statistics that batch moves as two more outputs (the
 * webgpu set does; see `Kernels.batchStatistics`).
 */
export const BATCH_NORM_KERNELS = { forward: 'AdlBatchNorm', gradient: 'AdlBatchNormGrad' } as const;
/**
 * Inputs `{ x, scale, offset }` (attr `epsilon`), outputs `[y, mean, variance]` (and the running inputs
 * and outputs as `BATCH_NORM_KERNELS`); the gradient kernel takes `{ dy, x, mean, variance, scale }` and
 * returns `[dx, dScale, dOffset]`.
 */
export const AFFINE_BATCH_NORM_KERNELS = { forward: 'AdlAffineBatchNorm', gradient: 'AdlAffineBatchNormGrad' } as const;
/** Inputs `[weights, ...terms]`; the gradient kernel takes `[dy, weights, ...terms]` and returns `[dWeights, ...dTerms]`. */
export const WEIGHTED_SUM_KERNELS = { forward: 'AdlWeightedSum', gradient: 'AdlWeightedSumGrad' } as const;
/**
 * `Kernels.edgeWeightedSum` as one kernel: inputs `[weights, ...terms]` (`weights` `[E, K]`, each term
 * `[N, H, W, C or E·C]`); the gradient kernel takes `[dy, weights, ...terms]` and returns `[dWeights, ...dTerms]`.
 */
export const EDGE_WEIGHTED_SUM_KERNELS = { forward: 'AdlEdgeWeightedSum', gradient: 'AdlEdgeWeightedSumGrad' } as const;

/**
 * Inputs `{ x, rows, columns }` (matrices `[outH, h]` and `[outW, w]`), attr `transposed`:
 * `out[n, i, j, c] = Σ_{y, x} rows[i, y] · columns[j, x] · x[n, y, x, c]`, or with `transposed` the same with
 * the matrices transposed (`x` then has the forward's output size). Its gradient is the transposed form.
 */
export const RESAMPLE_KERNEL = 'AdlSeparableResample';

/**
 * Inputs `{ dy, y }` (same shape): the ReLU's gradient `dy · step(y)` in one pass, where tfjs takes a
 * Step and a Multiply (the same bits, NaN where y is NaN). Its own gradient is itself with respect to dy.
 */
export const RELU_GRAD_KERNEL = 'AdlReluGrad';

/**
 * Inputs `{ logits, labels }` (float32 `[..., K]`, int32 `[...]`), attr `ignoreIndex`: the mean over the
 * pixels not labelled ignoreIndex of −log softmax(logits)[label], a scalar (0 when every pixel is
 * ignored; a label outside [0, K) counts but picks nothing). The gradient kernel takes
 * `{ dy, logits, labels }` and returns (softmax − one-hot) · dy / count on the counted pixels, 0 elsewhere.
 */
export const CROSS_ENTROPY_KERNELS = { forward: 'AdlCrossEntropy', gradient: 'AdlCrossEntropyGrad' } as const;

/** The running statistics a batch-norm kernel may be given only feed its running outputs: no gradient. */
const RUNNING_INPUTS_NO_GRADIENT = (channelsLike: tf.Tensor) => ({
  runningMean: () => tf.zerosLike(channelsLike),
  runningVariance: () => tf.zerosLike(channelsLike),
});

let gradientsRegistered = false;

/** Registers the gradients of the fused kernels with tfjs, once per process. */
export function registerFusedGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  const runKernel = (kernelName: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap) =>
    tf.engine().runKernel(kernelName, inputs, attrs) as tf.Tensor;
  tf.registerGradient({
    kernelName: POOL_KERNELS.forward,
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({ x: () => runKernel(POOL_KERNELS.gradient, { x, dy: dy as tf.Tensor }, attrs) }),
  });
  tf.registerGradient({
    kernelName: BATCH_NORM_KERNELS.forward,
    inputsToSave: ['x'],
    outputsToSave: [false, true, true],
    // Only the normalised output is differentiated: the mean and variance outputs feed the running
    // statistics, which the loss never reads.
    gradFunc: (dys, [x, mean, variance], attrs) => ({
      x: () => runKernel(BATCH_NORM_KERNELS.gradient, { dy: (dys as tf.Tensor[])[0], x, mean, variance }, attrs),
      ...RUNNING_INPUTS_NO_GRADIENT(mean),
    }),
  });
  tf.registerGradient({
    kernelName: AFFINE_BATCH_NORM_KERNELS.forward,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    // As the batch statistics: only y is differentiated. One kernel gives all three gradients (see below).
    gradFunc: (dys, [x, scale, mean, variance], attrs) => {
      const inputs = { dy: (dys as tf.Tensor[])[0], x, mean, variance, scale };
      const [dx, dScale, dOffset] = tf.engine().runKernel(AFFINE_BATCH_NORM_KERNELS.gradient, inputs, attrs) as tf.Tensor[];
      return { x: () => dx, scale: () => dScale, offset: () => dOffset, ...RUNNING_INPUTS_NO_GRADIENT(mean) };
    },
  });
  tf.registerGradient({
    kernelName: RESAMPLE_KERNEL,
    inputsToSave: ['rows', 'columns'],
    // The matrices are constants (interpolation weights): only x has a gradient.
    gradFunc: (dy, [rows, columns], attrs) => ({
      x: () => runKernel(RESAMPLE_KERNEL, { x: dy as tf.Tensor, rows, columns }, { transposed: !attrs.transposed }),
    }),
  });
  tf.registerGradient({
    kernelName: CROSS_ENTROPY_KERNELS.forward,
    inputsToSave: ['logits', 'labels'],
    gradFunc: (dy, [logits, labels], attrs) => ({
      logits: () => runKernel(CROSS_ENTROPY_KERNELS.gradient, { dy: dy as tf.Tensor, logits, labels }, attrs),
      labels: () => tf.zerosLike(labels),
    }),
  });
  tf.registerGradient({
    kernelName: RELU_GRAD_KERNEL,
    inputsToSave: ['y'],
    // Linear in dy; y only gates it (a step: zero gradient almost everywhere).
    gradFunc: (ddx, [y]) => ({ dy: () => runKernel(RELU_GRAD_KERNEL, { dy: ddx as tf.Tensor, y }, {}), y: () => tf.zerosLike(y) }),
  });
  for (const { forward, gradient: gradientKernel } of [WEIGHTED_SUM_KERNELS, EDGE_WEIGHTED_SUM_KERNELS]) {
    tf.registerGradient({
      kernelName: forward,
      saveAllInputs: true,
      gradFunc: (dy, [weights, ...terms]) => {
        // One kernel computes every input's gradient, here rather than in the per-input functions:
        // tfjs runs each of those in its own tidy, which would dispose the other gradients.
        const inputs = [dy as tf.Tensor, weights, ...terms] as unknown as tf.NamedTensorMap;
        const gradients = tf.engine().runKernel(gradientKernel, inputs, {}) as tf.Tensor[];
        return Object.fromEntries(gradients.map((gradient, i) => [String(i), () => gradient]));
      },
    });
  }
}

/** Whether the terms are float32 and of one shape: what a weighted-sum kernel takes. */
export function sameShapeFloatTerms(terms: readonly tf.Tensor[]): boolean {
  return terms.every((t) => t.dtype === 'float32' && tf.util.arraysEqual(t.shape, terms[0].shape));
}

/** `[weights, ...terms]` as the weighted-sum kernel takes them, or null where it cannot (mixed shapes or dtypes). */
export function weightedSumInputs(terms: readonly tf.Tensor[], weights: SumWeights): tf.Tensor[] | null {
  if (!sameShapeFloatTerms(terms)) return null;
  const weightTensor = Array.isArray(weights) ? tf.tensor1d(weights as number[]) : (weights as tf.Tensor1D);
  if (weightTensor.size !== terms.length) throw new RangeError(`weightedSum: ${terms.length} terms but ${weightTensor.size} weights`);
  return [weightTensor, ...terms];
}
