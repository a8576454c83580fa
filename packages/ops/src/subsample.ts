import * as tf from '@tensorflow/tfjs';
import type { Size } from './layer.js';
import { StatelessLayer } from './simple-layers.js';

/** Size after keeping every other row and column: ⌈n / 2⌉. */
export function halfSize([height, width]: Size): Size {
  return [Math.ceil(height / 2), Math.ceil(width / 2)];
}

/**
 * Keeps rows and columns 0, 2, 4, …: a stride-1 "same" convolution or pool followed by this equals
 * the stride-2 one with symmetric padding. Written with pad and reshape so gradients exist everywhere.
 */
export function subsample2(x: tf.Tensor4D): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  const [outHeight, outWidth] = halfSize([height, width]);
  const even = tf.pad(x, [
    [0, 0],
    [0, 2 * outHeight - height],
    [0, 2 * outWidth - width],
    [0, 0],
  ]);
  const phased = tf.reshape(even, [batch, outHeight, 2, outWidth, 2, channels]);
  return tf.reshape(tf.slice(phased, [0, 0, 0, 0, 0, 0], [batch, outHeight, 1, outWidth, 1, channels]), [
    batch,
    outHeight,
    outWidth,
    channels,
  ]);
}

export class Subsample2 extends StatelessLayer {
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return subsample2(x);
  }

  override outputSize(input: Size): Size {
    return halfSize(input);
  }
}
