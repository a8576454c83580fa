import * as tf from '@tensorflow/tfjs';
import { OPTIMIZER_KERNELS, sgdMomentumUpdate, sgdMomentumUpdates } from '../optimizer-updates.js';

/** PyTorch's updates in float64, the reference for every backend. */
export function referenceSgd(w: number[], gradients: number[][], lr: number, mu: number, wd: number): number[] {
  const v = w.map(() => 0);
  for (const g of gradients) {
    w.forEach((x, i) => {
      v[i] = mu * v[i] + g[i] + wd * x;
      w[i] = x - lr * v[i];
    });
  }
  return w;
}

export function referenceAdam(w: number[], gradients: number[][], lr: number, b1: number, b2: number, eps: number, wd: number): number[] {
  const [m, v] = [w.map(() => 0), w.map(() => 0)];
  gradients.forEach((g, t) => {
    w.forEach((x, i) => {
      const grad = g[i] + wd * x;
      m[i] = b1 * m[i] + (1 - b1) * grad;
      v[i] = b2 * v[i] + (1 - b2) * grad * grad;
      w[i] = x - (lr * (m[i] / (1 - b1 ** (t + 1)))) / (Math.sqrt(v[i] / (1 - b2 ** (t + 1))) + eps);
    });
  });
  return w;
}

export const start = [0.5, -1, 2];
/** Three steps' gradients of a 3-element variable starting at `start`. */
export const gradients = [
  [0.1, -0.2, 0.3],
  [-0.05, 0.4, 0.1],
  [0.2, 0.2, -0.3],
];

/**
 * Two SGD steps on variables of three shapes, once through `sgdMomentumUpdates` and once one variable
 * at a time, on the current backend: whether the two agree bit for bit, the `AdlSgdMomentum` calls the
 * first made per step, and whether it left no tensor behind.
 */
export async function sgdUpdatesAgainstOneAtATime(): Promise<{ bitEqual: boolean; fusedCallsPerStep: number; noTensorsLeft: boolean }> {
  const shapes = [[3], [2, 2], [1, 1, 3, 2]];
  const make = () => shapes.map((shape, k) => [tf.variable(tf.add(tf.reshape(tf.range(0, shape.reduce((a, b) => a * b, 1)), shape), k)), tf.variable(tf.zeros(shape))]);
  const [together, apart] = [make(), make()];
  const hyper = { learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 };
  let fusedCallsPerStep = 0;
  let noTensorsLeft = true;
  for (const step of [1, 2]) {
    const grads = () => shapes.map((shape) => tf.fill(shape, step * 0.5));
    const before = tf.memory().numTensors;
    const profile = await tf.profile(() => tf.tidy(() => sgdMomentumUpdates(together.map(([w]) => w), together.map(([, v]) => v), grads(), hyper)));
    fusedCallsPerStep = profile.kernelNames.filter((name) => name === OPTIMIZER_KERNELS.sgdMomentum).length;
    noTensorsLeft &&= tf.memory().numTensors === before;
    tf.tidy(() => grads().forEach((g, i) => sgdMomentumUpdate(apart[i][0], apart[i][1], g, hyper)));
  }
  const bytes = async (variable: tf.Variable) => Buffer.from(((await variable.data()) as Float32Array).buffer);
  const pairs = together.flat().map((variable, i) => [variable, apart.flat()[i]] as const);
  const bitEqual = (await Promise.all(pairs.map(async ([a, b]) => (await bytes(a)).equals(await bytes(b))))).every(Boolean);
  tf.dispose([...together.flat(), ...apart.flat()]);
  return { bitEqual, fusedCallsPerStep, noTensorsLeft };
}
