// The optimizers of the PyTorch reference (bench/reference): SGD with momentum and Adam, both with
// L2 weight decay, through @adl/backend's one-pass updates (SGD: one kernel call for every variable on onednn).
import * as tf from '@tensorflow/tfjs';
import { adamUpdate, sgdMomentumUpdates } from '@adl/backend';
import { freeDuringBackward } from '@adl/ops';

/** `minimize(loss)`: one step on `variables`, returning the loss tensor (the caller disposes it). */
function optimizer(variables, stateSlots, updateAll) {
  const state = variables.map((v) => Array.from({ length: stateSlots }, () => tf.variable(tf.zerosLike(v), false)));
  let step = 0;
  return {
    minimize(loss) {
      step++;
      const { value, grads } = tf.variableGrads(() => freeDuringBackward(loss()), variables);
      updateAll(state, variables.map((variable) => grads[variable.name]), step);
      tf.dispose(grads);
      return value;
    },
    dispose: () => tf.dispose(state.flat()),
  };
}

/** PyTorch `SGD(lr, momentum, weight_decay)`: every variable in one update call, as @adl/search's optimizer. */
export function sgd(variables, { learningRate, momentum, weightDecay }) {
  return optimizer(variables, 1, (state, gradients) => sgdMomentumUpdates(variables, state.map(([velocity]) => velocity), gradients, { learningRate, momentum, weightDecay }));
}

/** PyTorch `Adam(lr, betas, weight_decay)` (epsilon 1e-8). */
export function adam(variables, { learningRate, beta1, beta2, weightDecay }) {
  return optimizer(variables, 2, (state, gradients, step) =>
    variables.forEach((variable, i) => adamUpdate(variable, state[i][0], state[i][1], gradients[i], { learningRate, beta1, beta2, epsilon: 1e-8, weightDecay, step })),
  );
}
