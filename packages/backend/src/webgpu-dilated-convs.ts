import * as tf from '@tensorflow/tfjs';
import { assertSamePadding } from './kernels.js';
import { DILATED_FILTER_GRADIENT_KERNEL } from './webgpu-conv-gradients.js';

/**
 * Dilated "same" convolutions at stride 1 on webgpu, as one forward kernel each way, where the stock
 * set goes through space-to-batch (tfjs-core refuses the gradient of a dilated convolution): a pad, a
 * transpose and reshapes before the convolution and a transpose and slice after it, each a dispatch,
 * and as many again in the backward pass. tfjs's forward kernels take a dilation; the input gradient is
 * the same convolution of dy with the filter turned by 180° (its channels swapped for a dense one), and
 * the filter gradient is the split kernel (webgpu-conv-gradients.ts), which takes a dilation.
 */

export function dilatedConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, dilation: number, padding: number): tf.Tensor4D {
  assertSamePadding(filter.shape[0], dilation, padding);
  const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weights, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([input, weights]);
    return {
      value: tf.conv2d(input, weights, 1, padding, 'NHWC', dilation),
      gradFunc: (dy: tf.Tensor, [savedInput, savedWeights]: tf.Tensor[]) => [
        tf.conv2d(dy as tf.Tensor4D, tf.transpose(tf.reverse(savedWeights, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D, 1, padding, 'NHWC', dilation),
        tf.engine().runKernel(DILATED_FILTER_GRADIENT_KERNEL, { x: savedInput, dy }, { strides: 1, dilations: dilation, pad: padding, filterShape: savedWeights.shape }) as tf.Tensor,
      ],
    };
  });
  return conv(x, filter) as tf.Tensor4D;
}

export function dilatedDepthwiseConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, dilation: number): tf.Tensor4D {
  const padding = (dilation * (filter.shape[0] - 1)) / 2;
  assertSamePadding(filter.shape[0], dilation, padding);
  const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weights, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([input, weights]);
    return {
      value: tf.depthwiseConv2d(input, weights, 1, padding, 'NHWC', dilation),
      gradFunc: (dy: tf.Tensor, [savedInput, savedWeights]: tf.Tensor[]) => [
        tf.depthwiseConv2d(dy as tf.Tensor4D, tf.reverse(savedWeights, [0, 1]) as tf.Tensor4D, 1, padding, 'NHWC', dilation),
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: savedInput, dy }, { strides: 1, dilations: dilation, pad: padding, filterShape: savedWeights.shape }) as tf.Tensor,
      ],
    };
  });
  return conv(x, filter) as tf.Tensor4D;
}
