import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { kernelsFor } from '../backend.js';
import type { ForwardContext } from '../layer.js';

/** Backends that install from the npm registry alone; every test that computes runs on each. */
export const TEST_BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: string): Promise<void> {
  await tf.setBackend(name);
  await tf.ready();
}

export function trainingContext(): ForwardContext {
  return { training: true, kernels: kernelsFor(tf.getBackend()) };
}

/** A fixed pseudo-random tensor, identical on every backend. */
export function seededTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  let state = seed >>> 0;
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state / 4294967296 - 0.5) * 2 * scale;
  }
  return tf.tensor(values, shape);
}
