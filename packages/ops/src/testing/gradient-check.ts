import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';

export interface GradientCheckOptions {
  /** Finite-difference step along each random direction. */
  readonly epsilon?: number;
  /** Random directions to probe. */
  readonly directions?: number;
  /** Allowed |analytic − numeric| / max(1, |numeric|) along a direction. */
  readonly tolerance?: number;
  readonly seed?: number;
}

export interface GradientCheckResult {
  readonly worstError: number;
  readonly analytic: number[];
  readonly numeric: number[];
}

/**
 * Compares the gradients of a scalar `loss(...inputs)` with central finite differences along
 * random directions `v` (all inputs perturbed at once): ⟨∇loss, v⟩ ≈ (loss(x + εv) − loss(x − εv)) / 2ε.
 * Directional checks catch errors in every coordinate at once and stay above float32 noise.
 * Throws with the numbers when the relative error exceeds the tolerance.
 */
export function checkGradients(
  loss: (...inputs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  options: GradientCheckOptions = {},
): GradientCheckResult {
  const { epsilon = 1e-2, directions = 3, tolerance = 2e-2, seed = 7 } = options;
  const rng = new Rng(seed);
  const gradients = tf.tidy(() => tf.grads((...xs: tf.Tensor[]) => loss(...xs))(inputs));
  const analytic: number[] = [];
  const numeric: number[] = [];
  try {
    for (let d = 0; d < directions; d++) {
      const direction = inputs.map((input) => tf.tensor(rng.normalArray(input.size), input.shape));
      const projected = tf.tidy(() =>
        tf.addN(gradients.map((gradient, i) => tf.sum(tf.mul(gradient, direction[i])))).dataSync()[0],
      );
      const at = (sign: number) =>
        tf.tidy(() => loss(...inputs.map((input, i) => tf.add(input, tf.mul(direction[i], sign * epsilon)))).dataSync()[0]);
      const difference = (at(1) - at(-1)) / (2 * epsilon);
      tf.dispose(direction);
      analytic.push(projected);
      numeric.push(difference);
    }
  } finally {
    tf.dispose(gradients);
  }
  const worstError = Math.max(...analytic.map((a, i) => Math.abs(a - numeric[i]) / Math.max(1, Math.abs(numeric[i]))));
  if (!(worstError <= tolerance)) {
    throw new Error(
      `gradient check failed: relative error ${worstError.toExponential(2)} > ${tolerance} ` +
        `(analytic ${analytic.map((v) => v.toPrecision(6)).join(', ')}; numeric ${numeric.map((v) => v.toPrecision(6)).join(', ')})`,
    );
  }
  return { worstError, analytic, numeric };
}
