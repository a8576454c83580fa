import * as tf from '@tensorflow/tfjs';
import { assertSamePadding, type ConvGeometry, type Kernels } from './kernels.js';
import { normaliseWithElementwiseOps } from './batch-statistics.js';
import { edgeWeightedSumOfElementwiseOps, weightedSumOfElementwiseOps } from './weighted-sum.js';
import { portableKernels } from './portable-kernels.js';

/**
 * tfjs's own convolution and pooling ops. Dilated convolutions go through space-to-batch, because
 * tfjs-core refuses gradients of `conv2d` / `depthwiseConv2d` with dilation > 1 on every backend;
 * the forward result is identical.
 */
export const stockKernels: Kernels = {
  name: 'stock',

  conv2d(x, filter, geometry: ConvGeometry) {
    const { stride, dilation, padding } = geometry;
    if (dilation === 1) return tf.conv2d(x, filter, stride, padding);
    if (stride !== 1) throw new RangeError(`dilated convolution needs stride 1, got stride ${stride}`);
    assertSamePadding(filter.shape[0], dilation, padding);
    return viaSpaceToBatch(x, dilation, (tiles) => tf.conv2d(tiles, filter, 1, 'valid'), filter.shape[0]);
  },

  pointwiseConv(x, filter) {
    return tf.conv2d(x, filter, 1, 0);
  },

  depthwiseConv2d(x, filter, dilation) {
    const kernel = filter.shape[0];
    const padding = (dilation * (kernel - 1)) / 2;
    assertSamePadding(kernel, dilation, padding);
    if (dilation === 1) return tf.depthwiseConv2d(x, filter, 1, padding);
    return viaSpaceToBatch(x, dilation, (tiles) => tf.depthwiseConv2d(tiles, filter, 1, 'valid'), kernel);
  },

  maxPool3x3(x) {
    return tf.maxPool(x, 3, 1, 'same');
  },

  // tfjs's AvgPoolGrad divides by the full window size even where its forward pass excludes the
  // padding (wrong gradients at the border, measured on cpu), so use the portable average pool.
  avgPool3x3: (x) => portableKernels.avgPool3x3(x),
  batchStatistics: normaliseWithElementwiseOps,
  weightedSum: weightedSumOfElementwiseOps,
  edgeWeightedSum: edgeWeightedSumOfElementwiseOps,
};

/**
 * A "same"-padded convolution at dilation `rate` as a valid, undilated one on the `rate²`
 * interleaved sub-images of the padded input.
 */
function viaSpaceToBatch(
  x: tf.Tensor4D,
  rate: number,
  validConv: (tiles: tf.Tensor4D) => tf.Tensor4D,
  kernel: number,
): tf.Tensor4D {
  const [, height, width] = x.shape;
  const padding = (rate * (kernel - 1)) / 2;
  const extraRows = (rate - ((height + 2 * padding) % rate)) % rate;
  const extraCols = (rate - ((width + 2 * padding) % rate)) % rate;
  const tiles = tf.spaceToBatchND(x, [rate, rate], [
    [padding, padding + extraRows],
    [padding, padding + extraCols],
  ]) as tf.Tensor4D;
  return tf.batchToSpaceND(validConv(tiles), [rate, rate], [
    [0, extraRows],
    [0, extraCols],
  ]) as tf.Tensor4D;
}
