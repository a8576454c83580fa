import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shareSavedTensors } from './saved-tensors.js';
import { seededTensor, TEST_BACKENDS, useBackend } from './testing/backends.js';

type Clone = (x: tf.Tensor) => tf.Tensor;
const engine = tf.engine() as unknown as { clone: Clone };
/** tfjs's own clone (an Identity kernel and tape nodes), which the patch shadows on the engine instance. */
const tfjsClone = (Object.getPrototypeOf(engine) as { clone: Clone }).clone;

/** A loss whose gradient reads tensors saved by registered gradients (matMul, relu, mul) and by a customGrad. */
function loss(x: tf.Tensor2D, w: tf.Tensor2D): tf.Scalar {
  const square = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [h, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([h]);
    return { value: tf.square(h), gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.mul(dy, tf.mul(saved, 2)) };
  });
  const h = tf.relu(tf.matMul(x, w));
  return tf.sum(tf.mul(square(h), h));
}

/** The gradients' bytes and the kernels run, with `clone` as the engine's clone. */
async function gradients(clone: Clone, x: tf.Tensor2D, w: tf.Tensor2D) {
  const patched = engine.clone;
  engine.clone = clone;
  try {
    let grads: tf.Tensor[] = [];
    const { kernelNames } = await tf.profile(() => {
      grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a as tf.Tensor2D, b as tf.Tensor2D))([x, w]);
    });
    const bytes = grads.map((g) => Buffer.from(g.dataSync().buffer));
    tf.dispose(grads);
    return { bytes, kernelNames };
  } finally {
    engine.clone = patched;
  }
}

describe.each(TEST_BACKENDS)('shareSavedTensors on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('cpu'));

  it('saves without Identity kernels where the backend shares data, with the same gradients bit for bit and no tensor left', async () => {
    shareSavedTensors();
    const x = seededTensor([6, 5], 41) as tf.Tensor2D;
    const w = seededTensor([5, 4], 42) as tf.Tensor2D;
    const reference = await gradients(tfjsClone, x, w);
    const before = tf.memory().numTensors;
    const shared = await gradients(engine.clone, x, w);
    expect(tf.memory().numTensors).toBe(before);
    expect(shared.bytes).toEqual(reference.bytes);
    expect(reference.kernelNames).toContain('Identity');
    // wasm's Identity copies the data: there tfjs's clone stays.
    expect(shared.kernelNames.includes('Identity')).toBe(backend === 'wasm');
    tf.dispose([x, w]);
  });

  it('keeps tfjs\'s clone where a gradient of a gradient is recorded: d²(x³)/dx² = 6x', () => {
    shareSavedTensors();
    const x = tf.tensor1d([0.5, -2, 3]);
    const second = tf.grad((a: tf.Tensor) => tf.sum(tf.grad((b: tf.Tensor) => tf.sum(tf.mul(tf.mul(b, b), b)))(a)))(x);
    expect(Array.from(second.dataSync())).toEqual([3, -12, 18]);
    tf.dispose([x, second]);
  });
});
