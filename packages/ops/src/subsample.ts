import * as tf from '@tensorflow/tfjs';
import type { Size } from './layer.js';
import { StatelessLayer } from './simple-layers.js';
import { separableResample } from './resize-bilinear.js';

/** Size after keeping every other row and column: ⌈n / 2⌉. */
export function halfSize([height, width]: Size): Size {
  return [Math.ceil(height / 2), Math.ceil(width / 2)];
}

/** `[⌈n/2⌉, n]` with a 1 at (i, 2i): picks every other index. */
function everyOther(length: number): Float32Array {
  const out = Math.ceil(length / 2);
  const matrix = new Float32Array(out * length);
  for (let i = 0; i < out; i++) matrix[i * length + 2 * i] = 1;
  return matrix;
}

/**
 * Keeps rows and columns 0, 2, 4, …: a stride-1 "same" convolution or pool followed by this equals
 * the stride-2 one with symmetric padding. Two selection-matrix products (exact): a strided slice
 * has no gradient in tfjs, and a pad-reshape-slice of 6-D tensors is slow on wasm.
 */
export function subsample2(x: tf.Tensor4D): tf.Tensor4D {
  const [, height, width] = x.shape;
  return separableResample(x, everyOther(height), everyOther(width), halfSize([height, width]));
}

export class Subsample2 extends StatelessLayer {
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return subsample2(x);
  }

  override outputSize(input: Size): Size {
    return halfSize(input);
  }
}
