import * as tf from '@tensorflow/tfjs';
import { FILTER_GRADIENT_ROWS, Rng } from '@adl/backend';
import { seededTensor } from '@adl/backend/test';
import { describe, expect, it } from 'vitest';
import { GroupedPointwiseConv } from './grouped-pointwise-conv.js';

/** Group g's 1×1 conv on its own channels, concatenated: what the grouped conv computes. */
function perGroup(x: tf.Tensor4D, filter: tf.Tensor3D): tf.Tensor4D {
  const [groups, inChannels, outChannels] = filter.shape;
  const outputs = tf.split(x, groups, 3).map((slice, g) =>
    tf.conv2d(slice as tf.Tensor4D, tf.reshape(tf.slice(filter, [g, 0, 0], [1, inChannels, outChannels]), [1, 1, inChannels, outChannels]) as tf.Tensor4D, 1, 0),
  );
  return tf.concat(outputs, 3);
}

describe('GroupedPointwiseConv', () => {
  // 2·7·5 = 70 pixels (one chunk of the filter gradient), and 2·50·45 = 4,500 (two chunks).
  it.each([[[2, 7, 5]], [[2, 50, 45]]])('at %j equals a 1×1 conv per group, in value and in the gradients of input and filter', ([n, h, w]) => {
    const [groups, inChannels, outChannels] = [3, 4, 5];
    const conv = new GroupedPointwiseConv(groups, inChannels, outChannels, new Rng(1));
    expect(conv.cost([h, w])).toEqual({ params: 60, multAdds: 60 * h * w, tfMultAdds: 60 * h * w });
    tf.tidy(() => {
      const x = seededTensor([n, h, w, groups * inChannels], 2) as tf.Tensor4D;
      const dy = seededTensor([n, h, w, groups * outChannels], 3) as tf.Tensor4D;
      const ours = tf.grads((input: tf.Tensor, filter: tf.Tensor) => tf.mul(conv.apply(input as tf.Tensor4D), 1))([x, conv.filter], dy);
      const reference = tf.grads((input: tf.Tensor, filter: tf.Tensor) => perGroup(input as tf.Tensor4D, filter as tf.Tensor3D))([x, conv.filter], dy);
      expect(n * h * w > FILTER_GRADIENT_ROWS).toBe(h === 50);
      const largest = (t: tf.Tensor) => tf.max(tf.abs(t)).dataSync()[0];
      expect(largest(tf.sub(conv.apply(x), perGroup(x, conv.filter)))).toBeLessThan(1e-5);
      ours.forEach((g, i) => expect(largest(tf.sub(g, reference[i]))).toBeLessThan(1e-5 * Math.max(1, largest(reference[i]))));
    });
    conv.dispose();
  });
});
