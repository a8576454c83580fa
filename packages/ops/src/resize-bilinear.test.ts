import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bilinearMatrix, resizeBilinear } from './resize-bilinear.js';
import { seededTensor, TEST_BACKENDS, useBackend } from '@adl/backend/test';
import { checkGradients } from '@adl/backend/test';

describe('bilinearMatrix', () => {
  it('aligns corners: 3 → 5 interpolates halfway between neighbours', () => {
    expect(Array.from(bilinearMatrix(5, 3))).toEqual([1, 0, 0, 0.5, 0.5, 0, 0, 1, 0, 0, 0.5, 0.5, 0, 0, 1]);
  });

  it('to one pixel: the first corner', () => {
    expect(Array.from(bilinearMatrix(1, 4))).toEqual([1, 0, 0, 0]);
  });
});

describe.each(TEST_BACKENDS)('resizeBilinear on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('cpu'));

  it.each([
    [3, 2, 5, 4],
    [11, 11, 21, 21],
    [4, 7, 9, 13],
    [6, 6, 3, 3],
    // One side kept, the other resized; and the same size (the input itself).
    [3, 4, 5, 4],
    [3, 4, 3, 7],
    [3, 4, 3, 4],
  ])('%i×%i → %i×%i equals tf.image.resizeBilinear with aligned corners', (h, w, oh, ow) => {
    tf.tidy(() => {
      const x = seededTensor([2, h, w, 3], 31) as tf.Tensor4D;
      const expected = tf.image.resizeBilinear(x, [oh, ow], true);
      const actual = resizeBilinear(x, [oh, ow]);
      expect(actual.shape).toEqual([2, oh, ow, 3]);
      expect(tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]).toBeLessThan(1e-5);
    });
  });

  it('has exact gradients for a non-square input', async () => {
    const x = tf.variable(seededTensor([2, 3, 2, 4], 32)) as tf.Variable<tf.Rank.R4>;
    const r = seededTensor([2, 5, 4, 4], 33);
    await checkGradients(() => tf.sum(tf.mul(resizeBilinear(x, [5, 4]), r)), [x]);
    tf.dispose([x, r]);
  });
});
