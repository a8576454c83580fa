import * as tf from '@tensorflow/tfjs';
import { assertSamePadding, convOutputLength, type ConvGeometry, type Kernels } from './kernels.js';
import { normaliseWithElementwiseOps } from './batch-statistics.js';
import { edgeWeightedSumOfElementwiseOps, weightedSumOfElementwiseOps } from './weighted-sum.js';
import { portableKernels } from './portable-kernels.js';
import { padSpatial } from './shifted-windows.js';

/**
 * Convolutions run by the backend's own forward kernels (XNNPACK on wasm), with gradients that
 * are forward convolutions too, so no backprop kernel is needed (wasm has no
 * Conv2DBackpropFilter; its Conv2DBackpropInput is a slow loop):
 * - input gradient: the convolution of dy (zeros inserted between its pixels at stride 2) with
 *   the filter rotated by 180° and its in/out channels swapped, at padding d·(k−1) − p;
 * - filter gradient: the padded input with batch and channels swapped convolved "valid" with dy as
 *   a filter of the output's size, at stride d: `dW[i,j,c,o] = Σ x[n, i·d + y, j·d + x, c] dy[n, y, x, o]`;
 * - depthwise filter gradient: the same with (batch, channel) pairs as the channels of one image.
 * Pools and 1×1 convs are the portable ones (pools: wasm's MaxPoolGrad is wrong for negative maxima).
 */
export const nativeKernels: Kernels = {
  name: 'native',

  conv2d(x, filter, geometry: ConvGeometry) {
    const kernel = filter.shape[0];
    if (kernel === 1 && geometry.stride === 1 && geometry.padding === 0) return portableKernels.pointwiseConv(x, filter);
    const { stride, dilation, padding } = geometry;
    if (stride > 1 && dilation > 1) throw new RangeError('conv2d: stride and dilation both above 1');
    const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, weights, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
      save([input, weights]);
      return {
        value: tf.conv2d(input, weights, stride, padding, 'NHWC', dilation),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [savedInput, savedWeights] = saved as [tf.Tensor4D, tf.Tensor4D];
          const [, height, width] = savedInput.shape;
          // The stride-1 output size, and dy spread onto it (zeros between pixels at stride 2).
          const dense = stride === 1 ? (dy as tf.Tensor4D) : spreadStrided(dy as tf.Tensor4D, stride, [convOutputLength(height, kernel, { stride: 1, dilation, padding }), convOutputLength(width, kernel, { stride: 1, dilation, padding })]);
          const back = dilation * (kernel - 1) - padding;
          const flipped = tf.transpose(rotate180(savedWeights), [0, 1, 3, 2]) as tf.Tensor4D;
          const dInput = convWithPadding(dense, flipped, back, dilation, [height, width]);
          return [dInput, filterGradient(savedInput, dense, kernel, padding, dilation)];
        },
      };
    });
    return conv(x, filter) as tf.Tensor4D;
  },

  pointwiseConv: portableKernels.pointwiseConv,

  depthwiseConv2d(x, filter, dilation) {
    const kernel = filter.shape[0];
    const padding = (dilation * (kernel - 1)) / 2;
    assertSamePadding(kernel, dilation, padding);
    const depthwise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, weights, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
      save([input, weights]);
      return {
        value: tf.depthwiseConv2d(input, weights, 1, padding, 'NHWC', dilation),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [savedInput, savedWeights] = saved as [tf.Tensor4D, tf.Tensor4D];
          const dy4d = dy as tf.Tensor4D;
          const [batch, height, width, channels] = savedInput.shape;
          const dInput = tf.depthwiseConv2d(dy4d, rotate180(savedWeights), 1, padding, 'NHWC', dilation);
          // (n, c) pairs as the channels of one image, dy as a depthwise filter of the image's size.
          const paddedInput = padSpatial(savedInput, padding);
          const pairs = tf.reshape(tf.transpose(paddedInput, [1, 2, 0, 3]), [1, height + 2 * padding, width + 2 * padding, batch * channels]) as tf.Tensor4D;
          const dyFilter = tf.reshape(tf.transpose(dy4d, [1, 2, 0, 3]), [height, width, batch * channels, 1]) as tf.Tensor4D;
          const perPair = tf.depthwiseConv2d(pairs, dyFilter, dilation, 'valid');
          const dWeights = tf.reshape(tf.sum(tf.reshape(perPair, [kernel, kernel, batch, channels]), 2), [kernel, kernel, channels, 1]);
          return [dInput, dWeights];
        },
      };
    });
    return depthwise(x, filter) as tf.Tensor4D;
  },

  maxPool3x3: portableKernels.maxPool3x3,
  avgPool3x3: portableKernels.avgPool3x3,
  batchStatistics: normaliseWithElementwiseOps,
  weightedSum: weightedSumOfElementwiseOps,
  edgeWeightedSum: edgeWeightedSumOfElementwiseOps,
};

const reversals = new Map<number, tf.Tensor2D>();

/**
 * The filter rotated by 180° in its two spatial axes, as a product with a k²×k² permutation matrix:
 * exact, and about 10× faster than `tf.reverse` on wasm (2.3 vs 26 ms for [3, 3, 256, 256]).
 */
function rotate180(filter: tf.Tensor4D): tf.Tensor4D {
  const [k, , inChannels, outChannels] = filter.shape;
  const cells = k * k;
  let permutation = reversals.get(cells);
  if (!permutation) {
    const values = new Float32Array(cells * cells);
    for (let i = 0; i < cells; i++) values[i * cells + (cells - 1 - i)] = 1;
    permutation = tf.keep(tf.tensor2d(values, [cells, cells]));
    reversals.set(cells, permutation);
  }
  return tf.reshape(tf.matMul(permutation, tf.reshape(filter, [cells, inChannels * outChannels])), filter.shape);
}

/** A stride-1 convolution with symmetric `padding` (negative: crop), cut or zero-extended to `size`. */
function convWithPadding(x: tf.Tensor4D, filter: tf.Tensor4D, padding: number, dilation: number, [height, width]: [number, number]): tf.Tensor4D {
  const input = padding >= 0 ? x : (tf.slice(x, [0, -padding, -padding, 0], [-1, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding, -1]) as tf.Tensor4D);
  const out = tf.conv2d(input, filter, 1, Math.max(padding, 0), 'NHWC', dilation);
  return fitSpatial(out, height, width);
}

/** Crops or zero-extends (at the bottom and right) to `height × width`. */
function fitSpatial(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h === height && w === width) return x;
  const cropped = tf.slice(x, [0, 0, 0, 0], [-1, Math.min(h, height), Math.min(w, width), -1]) as tf.Tensor4D;
  return tf.pad(cropped, [[0, 0], [0, Math.max(0, height - h)], [0, Math.max(0, width - w)], [0, 0]]);
}

/** dy of a strided conv placed on the stride-1 output grid (zeros elsewhere), `size` = that grid. */
function spreadStrided(dy: tf.Tensor4D, stride: number, [height, width]: [number, number]): tf.Tensor4D {
  const [batch, outHeight, outWidth, channels] = dy.shape;
  const spaced = tf.pad(tf.reshape(dy, [batch, outHeight, 1, outWidth, 1, channels]), [[0, 0], [0, 0], [0, stride - 1], [0, 0], [0, stride - 1], [0, 0]]);
  return fitSpatial(tf.reshape(spaced, [batch, outHeight * stride, outWidth * stride, channels]) as tf.Tensor4D, height, width);
}

/** `dW[i,j,c,o] = Σ_{n,y,x} padded[n, i·d + y, j·d + x, c] · dy[n, y, x, o]` for a stride-1 dy. */
function filterGradient(input: tf.Tensor4D, dy: tf.Tensor4D, kernel: number, padding: number, dilation: number): tf.Tensor4D {
  const [, dyHeight, dyWidth] = dy.shape;
  // Only the rows and columns that some window reads.
  const span = (length: number) => length + dilation * (kernel - 1);
  const padded = fitSpatial(padSpatial(input, padding), span(dyHeight), span(dyWidth));
  const channelsAsBatch = tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D;
  const dyAsFilter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  return tf.transpose(tf.conv2d(channelsAsBatch, dyAsFilter, dilation, 'valid'), [1, 2, 0, 3]) as tf.Tensor4D;
}
