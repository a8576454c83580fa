import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';

export interface GradientCheckOptions {
  /** Finite-difference step along each random direction (small: ReLU kinks and max switches). */
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
 * Compares the gradients of a scalar `loss()` with respect to `variables` with central finite
 * differences along random unit directions `v` (all variables perturbed at once):
 * ⟨∇loss, v⟩ ≈ (loss(w + εv) − loss(w − εv)) / 2ε. A directional check covers every coordinate at
 * once; a unit direction keeps each coordinate's step tiny, so few ReLU kinks or max switches are
 * crossed, while ε stays large enough for float32. Throws with the numbers when the relative error exceeds the
 * tolerance; restores the variables either way. Values are read asynchronously, so that it runs on
 * backends that cannot read synchronously (WebGPU).
 */
export async function checkGradients(
  loss: () => tf.Scalar,
  variables: tf.Variable[],
  options: GradientCheckOptions = {},
): Promise<GradientCheckResult> {
  const { epsilon = 3e-3, directions = 3, tolerance = 2e-2, seed = 7 } = options;
  const rng = new Rng(seed);
  const { grads } = tf.variableGrads(loss, variables);
  const originals = variables.map((variable) => tf.clone(variable));
  const analytic: number[] = [];
  const numeric: number[] = [];
  try {
    for (let d = 0; d < directions; d++) {
      const raw = variables.map((v) => rng.normalArray(v.size));
      const norm = Math.sqrt(raw.reduce((sum, values) => sum + values.reduce((s, x) => s + x * x, 0), 0));
      const direction = variables.map((v, i) => tf.tensor(raw[i].map((x) => x / norm), v.shape));
      const projected = await scalarValue(() => tf.addN(variables.map((v, i) => tf.sum(tf.mul(grads[v.name], direction[i])))));
      const at = (sign: number) => {
        variables.forEach((v, i) => v.assign(tf.tidy(() => tf.add(originals[i], tf.mul(direction[i], sign * epsilon)))));
        return scalarValue(loss);
      };
      const difference = ((await at(1)) - (await at(-1))) / (2 * epsilon);
      tf.dispose(direction);
      analytic.push(projected);
      numeric.push(difference);
    }
  } finally {
    variables.forEach((v, i) => v.assign(originals[i]));
    tf.dispose(originals);
    tf.dispose(grads);
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

async function scalarValue(compute: () => tf.Tensor): Promise<number> {
  const value = tf.tidy(compute);
  try {
    return (await value.data())[0];
  } finally {
    value.dispose();
  }
}
