import * as tf from '@tensorflow/tfjs';
import { seededTensor } from '@adl/backend/test';
import { describe, expect, it } from 'vitest';
import { subsample2 } from './subsample.js';

describe('subsample2', () => {
  it('keeps rows and columns 0, 2, 4, … and equals a stride-2 conv after a stride-1 one', () => {
    tf.tidy(() => {
      const x = tf.reshape(tf.range(0, 15), [1, 3, 5, 1]) as tf.Tensor4D;
      expect(Array.from(subsample2(x).dataSync())).toEqual([0, 2, 4, 10, 12, 14]);
      const input = seededTensor([2, 9, 8, 3], 40) as tf.Tensor4D;
      const filter = seededTensor([3, 3, 3, 1], 41) as tf.Tensor4D;
      const strided = tf.depthwiseConv2d(input, filter, 2, 1);
      const viaSubsample = subsample2(tf.depthwiseConv2d(input, filter, 1, 1));
      expect(tf.max(tf.abs(tf.sub(strided, viaSubsample))).dataSync()[0]).toBeLessThan(1e-5);
    });
  });
});
