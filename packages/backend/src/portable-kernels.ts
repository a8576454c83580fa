import * as tf from '@tensorflow/tfjs';
import { normaliseWithElementwiseOps } from './batch-statistics.js';
import { edgeWeightedSumOfElementwiseOps, weightedSumOfElementwiseOps } from './weighted-sum.js';
import { matMul } from './mat-mul.js';
import { assertSamePadding, convOutputLength, type ConvGeometry, type Kernels } from './kernels.js';
import { padSpatial, shiftedWindows } from './shifted-windows.js';

/**
 * Kernels built only from slice, pad, reshape, concat, matMul and elementwise ops, whose
 * gradients exist on every tfjs backend. The wasm backend lacks Conv2DBackpropFilter and both
 * depthwise backprop kernels, its MaxPoolGrad is wrong where a window's maximum is negative, and
 * tfjs-core refuses gradients of dilated convolutions everywhere; these kernels avoid all four.
 */
export const portableKernels: Kernels = {
  name: 'portable',

  conv2d(x, filter, geometry: ConvGeometry) {
    const [kernel, , inChannels, outChannels] = filter.shape;
    if (kernel === 1 && geometry.stride === 1 && geometry.padding === 0) {
      return portableKernels.pointwiseConv(x, filter);
    }
    const [batch, height, width] = x.shape;
    const outHeight = convOutputLength(height, kernel, geometry);
    const outWidth = convOutputLength(width, kernel, geometry);
    const padded = padSpatial(x, geometry.padding);
    const windows = shiftedWindows(padded, kernel, geometry.stride, geometry.dilation, outHeight, outWidth);
    // im2col: columns ordered (kh, kw, in) to match the filter's [k, k, in, out] layout.
    const columns = windows.length === 1 ? windows[0] : tf.concat(windows, 3);
    const product = matMul(
      tf.reshape(columns, [batch * outHeight * outWidth, kernel * kernel * inChannels]),
      tf.reshape(filter, [kernel * kernel * inChannels, outChannels]),
    );
    return tf.reshape(product, [batch, outHeight, outWidth, outChannels]);
  },

  pointwiseConv(x, filter) {
    const [batch, height, width, inChannels] = x.shape;
    const outChannels = filter.shape[3];
    const product = matMul(
      tf.reshape(x, [batch * height * width, inChannels]),
      tf.reshape(filter, [inChannels, outChannels]),
    );
    return tf.reshape(product, [batch, height, width, outChannels]);
  },

  depthwiseConv2d(x, filter, dilation) {
    const kernel = filter.shape[0];
    const padding = (dilation * (kernel - 1)) / 2;
    assertSamePadding(kernel, dilation, padding);
    // The forward kernel exists everywhere; the gradient is written out: the input gradient is
    // the same depthwise conv of dy with the filter rotated by 180°, and the filter gradient sums
    // each shifted window of the input times dy.
    const depthwise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input4d, weights4d, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
      save([input4d, weights4d]);
      return {
        value: tf.depthwiseConv2d(input4d, weights4d, 1, padding, 'NHWC', dilation),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [savedInput, savedWeights] = saved as [tf.Tensor4D, tf.Tensor4D];
          const dy4d = dy as tf.Tensor4D;
          const [, height, width, channels] = savedInput.shape;
          const rotated = tf.reverse(savedWeights, [0, 1]) as tf.Tensor4D;
          const dInput = tf.depthwiseConv2d(dy4d, rotated, 1, padding, 'NHWC', dilation);
          const windows = shiftedWindows(padSpatial(savedInput, padding), kernel, 1, dilation, height, width);
          const dWeights = tf.reshape(
            tf.stack(windows.map((window) => tf.sum(tf.mul(window, dy4d), [0, 1, 2]))),
            [kernel, kernel, channels, 1],
          );
          return [dInput, dWeights];
        },
      };
    });
    return depthwise(x, filter) as tf.Tensor4D;
  },

  maxPool3x3(x) {
    const [, height, width] = x.shape;
    const windows = shiftedWindows(padSpatial(x, 1, -Infinity), 3, 1, 1, height, width);
    // A chain of pairwise maxima sends each output's gradient to exactly one input (the first
    // maximum), as a max-pool gradient should.
    return windows.reduce((best, window) => tf.maximum(best, window));
  },

  avgPool3x3(x) {
    const [, height, width] = x.shape;
    const windows = shiftedWindows(padSpatial(x, 1), 3, 1, 1, height, width);
    return tf.mul(tf.addN(windows), inverseWindowCounts(height, width)) as tf.Tensor4D;
  },

  batchStatistics: normaliseWithElementwiseOps,
  weightedSum: weightedSumOfElementwiseOps,
  edgeWeightedSum: edgeWeightedSumOfElementwiseOps,
};

/** 1 / (number of in-bounds cells) of each 3×3 window, shape [1, h, w, 1]. */
function inverseWindowCounts(height: number, width: number): tf.Tensor4D {
  const span = (index: number, length: number) => Math.min(index + 1, length - 1) - Math.max(index - 1, 0) + 1;
  const values = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) values[y * width + x] = 1 / (span(y, height) * span(x, width));
  }
  return tf.tensor4d(values, [1, height, width, 1]);
}
