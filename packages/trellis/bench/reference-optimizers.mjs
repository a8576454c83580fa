// The optimizers of the PyTorch reference (bench/reference): SGD with momentum and Adam, both with
// L2 weight decay, through @adl/ops's one-pass updates (one kernel per variable on onednn).
import * as tf from '@tensorflow/tfjs';
import { adamUpdate, sgdMomentumUpdate } from '@adl/backend';
import { freeDuringBackward } from '@adl/ops';

/** `minimize(loss)`: one step on `variables`, returning the loss tensor (the caller disposes it). */
function optimizer(variables, stateSlots, update) {
  const state = variables.map((v) => Array.from({ length: stateSlots }, () => tf.variable(tf.zerosLike(v), false)));
  let step = 0;
  return {
    minimize(loss) {
      step++;
      const { value, grads } = tf.variableGrads(() => freeDuringBackward(loss()), variables);
      variables.forEach((variable, i) => update(variable, state[i], grads[variable.name], step));
      tf.dispose(grads);
      return value;
    },
    dispose: () => tf.dispose(state.flat()),
  };
}

/** PyTorch `SGD(lr, momentum, weight_decay)`. */
export function sgd(variables, { learningRate, momentum, weightDecay }) {
  return optimizer(variables, 1, (variable, [velocity], gradient) => sgdMomentumUpdate(variable, velocity, gradient, { learningRate, momentum, weightDecay }));
}

/** PyTorch `Adam(lr, betas, weight_decay)` (epsilon 1e-8). */
export function adam(variables, { learningRate, beta1, beta2, weightDecay }) {
  return optimizer(variables, 2, (variable, [first, second], gradient, step) =>
    adamUpdate(variable, first, second, gradient, { learningRate, beta1, beta2, epsilon: 1e-8, weightDecay, step }),
  );
}
