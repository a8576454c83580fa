import * as tf from '@tensorflow/tfjs';

/**
 * A variable holding `initial()`. The initial tensor is created and released inside a tidy: a
 * variable made from a loose tensor shares its data but leaves that tensor's handle counted for
 * the life of the process (`tf.memory().numTensors` then grows with every model built).
 */
/** Assigns `values[i]` to `variables[i]` and disposes the values (the variables keep their data). */
export function assignValues(variables: readonly tf.Variable[], values: readonly tf.Tensor[]): void {
  variables.forEach((v, i) => v.assign(values[i]));
  tf.dispose(values as tf.Tensor[]);
}

export function newVariable<R extends tf.Rank>(initial: () => tf.Tensor<R>, trainable = true, name?: string): tf.Variable<R> {
  return tf.tidy(() => tf.variable(initial(), trainable, name));
}
