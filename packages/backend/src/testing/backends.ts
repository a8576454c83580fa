import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../rng.js';

/**
 * Backends that install from the npm registry alone, and `onednn` where its addon was built (the
 * test setup registers it); every test that computes runs on each.
 */
export const TEST_BACKENDS: readonly string[] = ['cpu', 'wasm', ...(tf.findBackendFactory('onednn') ? ['onednn'] : [])];

export async function useBackend(name: string): Promise<void> {
  await tf.setBackend(name);
  await tf.ready();
}

/** A fixed pseudo-random tensor, uniform in [−scale, scale), identical on every backend. */
export function seededTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = (rng.next() - 0.5) * 2 * scale;
  return tf.tensor(values, shape);
}
