import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matMul } from './mat-mul.js';
import { seededTensor, TEST_BACKENDS, useBackend } from './testing/backends.js';
import { checkGradients } from './testing/gradient-check.js';

describe.each(TEST_BACKENDS)('matMul with transpose-free gradients on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('cpu'));

  it('equals tf.matMul and its gradients match tf.matMul’s and finite differences', async () => {
    const a = tf.variable(seededTensor([7, 5], 1)) as tf.Variable<tf.Rank.R2>;
    const b = tf.variable(seededTensor([5, 3], 2)) as tf.Variable<tf.Rank.R2>;
    const r = seededTensor([7, 3], 3);
    tf.tidy(() => {
      expect(tf.max(tf.abs(tf.sub(matMul(a, b), tf.matMul(a, b)))).dataSync()[0]).toBeLessThan(1e-6);
      const ours = tf.variableGrads(() => tf.sum(tf.mul(matMul(a, b), r)), [a, b]).grads;
      const stock = tf.variableGrads(() => tf.sum(tf.mul(tf.matMul(a, b), r)), [a, b]).grads;
      for (const v of [a, b]) expect(tf.max(tf.abs(tf.sub(ours[v.name], stock[v.name]))).dataSync()[0]).toBeLessThan(1e-5);
    });
    await checkGradients(() => tf.sum(tf.mul(matMul(a, b), r)) as tf.Scalar, [a, b]);
    tf.dispose([a, b, r]);
  });
});
