import * as tf from '@tensorflow/tfjs';

/**
 * Kernels that update variables in one pass each (onednn, webgpu); the SGD kernel takes any number of
 * variables (see `sgdMomentumUpdates`).
 */
export const OPTIMIZER_KERNELS = { sgdMomentum: 'AdlSgdMomentum', adam: 'AdlAdam' } as const;

export interface SgdMomentumHyper {
  readonly learningRate: number;
  readonly momentum: number;
  readonly weightDecay: number;
}

/**
 * One SGD step with momentum and L2 weight decay as PyTorch computes it:
 * g ← ∇ + wd·w; v ← μ·v + g; w ← w − lr·v. One kernel on backends that have it.
 */
export function sgdMomentumUpdate(variable: tf.Variable, velocity: tf.Variable, gradient: tf.Tensor, hyper: SgdMomentumHyper): void {
  sgdMomentumUpdates([variable], [velocity], [gradient], hyper);
}

/**
 * `sgdMomentumUpdate` of many variables (`gradients[i]` for `variables[i]`), one kernel call per group
 * of variables up to `UPDATE_GROUP_FLOATS` on backends that have the kernel: its inputs are the triples
 * (value, velocity, gradient) one after the other, its outputs the pairs (value, velocity). A network's few hundred small variables otherwise
 * cost a kernel call's bookkeeping each.
 */
export function sgdMomentumUpdates(variables: readonly tf.Variable[], velocities: readonly tf.Variable[], gradients: readonly tf.Tensor[], hyper: SgdMomentumHyper): void {
  const { learningRate, momentum, weightDecay } = hyper;
  tf.tidy(() => {
    if (variables.every((variable, i) => fused(OPTIMIZER_KERNELS.sgdMomentum, variable, gradients[i]))) {
      // A group's new values and velocities live beside the old ones until assigned: groups bound that.
      for (const group of groupsUpTo(variables.map((variable) => variable.size), UPDATE_GROUP_FLOATS)) {
        tf.tidy(() => {
          const inputs = group.flatMap((i) => [variables[i], velocities[i], gradients[i]]);
          const outputs = tf.engine().runKernel(OPTIMIZER_KERNELS.sgdMomentum, inputs as unknown as tf.NamedTensorMap, { learningRate, momentum, weightDecay }) as tf.Tensor[];
          group.forEach((i, k) => {
            velocities[i].assign(outputs[2 * k + 1]);
            variables[i].assign(outputs[2 * k]);
          });
        });
      }
      return;
    }
    variables.forEach((variable, i) => {
      const g = weightDecay ? tf.add(gradients[i], tf.mul(variable, weightDecay)) : gradients[i];
      const newVelocity = tf.add(tf.mul(velocities[i], momentum), g);
      velocities[i].assign(newVelocity);
      variable.assign(tf.sub(variable, tf.mul(newVelocity, learningRate)));
    });
  });
}

/** The most floats of variables one SGD kernel call updates (16 MiB of values: 32 MiB of outputs at a time). */
const UPDATE_GROUP_FLOATS = 2 ** 22;

/** Consecutive indices of `sizes` in groups whose sizes add up to at most `limit` (a larger one alone). */
export function groupsUpTo(sizes: readonly number[], limit: number): number[][] {
  const groups: number[][] = [];
  let total = Infinity;
  sizes.forEach((size, i) => {
    if (total + size > limit) {
      groups.push([]);
      total = 0;
    }
    groups[groups.length - 1]!.push(i);
    total += size;
  });
  return groups;
}

export interface AdamHyper {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** The step number, from 1 (for the bias corrections). */
  readonly step: number;
}

/**
 * One Adam step with L2 weight decay added to the gradient and bias correction (PyTorch
 * `Adam(weight_decay=…)`). One kernel on backends that have it.
 */
export function adamUpdate(variable: tf.Variable, first: tf.Variable, second: tf.Variable, gradient: tf.Tensor, hyper: AdamHyper): void {
  const { learningRate, beta1, beta2, epsilon, weightDecay, step } = hyper;
  const correction1 = 1 - beta1 ** step;
  const correction2 = 1 - beta2 ** step;
  tf.tidy(() => {
    if (fused(OPTIMIZER_KERNELS.adam, variable, gradient)) {
      const attrs = { learningRate, beta1, beta2, epsilon, weightDecay, correction1, correction2 };
      const [value, m, v] = tf.engine().runKernel(OPTIMIZER_KERNELS.adam, [variable, first, second, gradient] as unknown as tf.NamedTensorMap, attrs) as tf.Tensor[];
      first.assign(m);
      second.assign(v);
      variable.assign(value);
      return;
    }
    const g = weightDecay ? tf.add(gradient, tf.mul(variable, weightDecay)) : gradient;
    const m = tf.add(tf.mul(first, beta1), tf.mul(g, 1 - beta1));
    const v = tf.add(tf.mul(second, beta2), tf.mul(tf.square(g), 1 - beta2));
    first.assign(m);
    second.assign(v);
    const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), epsilon));
    variable.assign(tf.sub(variable, tf.mul(update, learningRate)));
  });
}

function fused(kernelName: string, variable: tf.Tensor, gradient: tf.Tensor): boolean {
  return variable.dtype === 'float32' && gradient.dtype === 'float32' && tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}
