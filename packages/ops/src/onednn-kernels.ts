import * as tf from '@tensorflow/tfjs';
import type { ConvGeometry, Kernels } from './kernels.js';
import { assertSamePadding } from './kernels.js';
import { portableKernels } from './portable-kernels.js';

/**
 * Convolutions for the `onednn` backend: forward, input and filter gradients are each one oneDNN
 * primitive (multi-threaded, dilation included). Pools are the portable ones.
 */
export const onednnKernels: Kernels = {
  name: 'onednn',

  conv2d(x, filter, { stride, dilation, padding }: ConvGeometry) {
    const attrs = { strides: stride, pad: padding, dataFormat: 'NHWC', dilations: dilation };
    const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, weights, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
      save([input, weights]);
      return {
        value: run('Conv2D', { x: input, filter: weights }, attrs),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [savedInput, savedWeights] = saved as [tf.Tensor4D, tf.Tensor4D];
          return [
            run('Conv2DBackpropInput', { dy, filter: savedWeights }, { ...attrs, inputShape: savedInput.shape }),
            run('Conv2DBackpropFilter', { x: savedInput, dy }, { ...attrs, filterShape: savedWeights.shape }),
          ];
        },
      };
    });
    return conv(x, filter) as tf.Tensor4D;
  },

  pointwiseConv(x, filter) {
    return onednnKernels.conv2d(x, filter, { stride: 1, dilation: 1, padding: 0 });
  },

  depthwiseConv2d(x, filter, dilation) {
    const kernel = filter.shape[0];
    const padding = (dilation * (kernel - 1)) / 2;
    assertSamePadding(kernel, dilation, padding);
    const attrs = { strides: 1, pad: padding, dataFormat: 'NHWC', dilations: dilation };
    const depthwise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, weights, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
      save([input, weights]);
      return {
        value: run('DepthwiseConv2dNative', { x: input, filter: weights }, attrs),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [savedInput, savedWeights] = saved as [tf.Tensor4D, tf.Tensor4D];
          return [
            run('DepthwiseConv2dNativeBackpropInput', { dy, filter: savedWeights }, { ...attrs, inputShape: savedInput.shape }),
            run('DepthwiseConv2dNativeBackpropFilter', { x: savedInput, dy }, { ...attrs, filterShape: savedWeights.shape }),
          ];
        },
      };
    });
    return depthwise(x, filter) as tf.Tensor4D;
  },

  maxPool3x3: portableKernels.maxPool3x3,
  avgPool3x3: portableKernels.avgPool3x3,
};

function run(kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor4D {
  if (tf.getBackend() !== 'onednn') throw new Error(`onednn kernels need the onednn backend, not "${tf.getBackend()}"`);
  return tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor4D;
}
