import * as tf from '@tensorflow/tfjs';
import { AFFINE_BATCH_NORM_KERNELS, BATCH_NORM_KERNELS, POOL_KERNELS, WEIGHTED_SUM_KERNELS, assertSamePadding, weightedSumInputs, edgeWeightedSumOfElementwiseOps, weightedSumOfElementwiseOps, type ConvGeometry, type Kernels } from '@adl/backend';

/**
 * Convolutions for the `onednn` backend: forward, input and filter gradients are each one oneDNN
 * primitive (multi-threaded, dilation included). 3×3 pools, training-mode batch norm (with or
 * without scale and offset) and weighted sums are one compiled kernel each way, instead of the many elementwise kernels of the
 * portable forms.
 */
export const onednnKernels: Kernels = {
  name: 'onednn',
  backend: 'onednn',

  conv2d(x, filter, { stride, dilation, padding }: ConvGeometry) {
    return withBackpropKernels(DENSE, { strides: stride, pad: padding, dataFormat: 'NHWC', dilations: dilation })(x, filter);
  },

  pointwiseConv(x, filter) {
    return onednnKernels.conv2d(x, filter, { stride: 1, dilation: 1, padding: 0 });
  },

  depthwiseConv2d(x, filter, dilation) {
    const kernel = filter.shape[0];
    const padding = (dilation * (kernel - 1)) / 2;
    assertSamePadding(kernel, dilation, padding);
    return withBackpropKernels(DEPTHWISE, { strides: 1, pad: padding, dataFormat: 'NHWC', dilations: dilation })(x, filter);
  },

  maxPool3x3: (x) => pool3x3(x, 'max'),
  avgPool3x3: (x) => pool3x3(x, 'avg'),

  batchStatistics(x, epsilon) {
    const [normalised, mean, variance] = runKernel(BATCH_NORM_KERNELS.forward, { x }, { epsilon }) as tf.Tensor[];
    return { normalised: normalised as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  },

  affineBatchNorm(x, scale, offset, epsilon) {
    const [output, mean, variance] = runKernel(AFFINE_BATCH_NORM_KERNELS.forward, { x, scale, offset }, { epsilon }) as tf.Tensor[];
    return { output: output as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  },

  weightedSum(terms, weights) {
    const inputs = weightedSumInputs(terms, weights);
    if (!inputs) return weightedSumOfElementwiseOps(terms, weights);
    return runKernel(WEIGHTED_SUM_KERNELS.forward, inputs as unknown as tf.NamedTensorMap, {}) as tf.Tensor;
  },

  edgeWeightedSum: edgeWeightedSumOfElementwiseOps,
};

function pool3x3(x: tf.Tensor4D, mode: 'max' | 'avg'): tf.Tensor4D {
  return runKernel(POOL_KERNELS.forward, { x }, { mode }) as tf.Tensor4D;
}

/** The forward kernel of a convolution and its two backprop kernels (which take `dilations` on onednn). */
interface ConvKernelNames {
  readonly forward: string;
  readonly input: string;
  readonly filter: string;
}

const DENSE: ConvKernelNames = { forward: 'Conv2D', input: 'Conv2DBackpropInput', filter: 'Conv2DBackpropFilter' };
const DEPTHWISE: ConvKernelNames = {
  forward: 'DepthwiseConv2dNative',
  input: 'DepthwiseConv2dNativeBackpropInput',
  filter: 'DepthwiseConv2dNativeBackpropFilter',
};

/** `(x, filter) => conv`, with its gradients from the backprop kernels (tfjs-core refuses dilated ones). */
function withBackpropKernels(names: ConvKernelNames, attrs: Record<string, unknown>): (x: tf.Tensor4D, filter: tf.Tensor4D) => tf.Tensor4D {
  const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weights, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([input, weights]);
    return {
      value: run(names.forward, { x: input, filter: weights }, attrs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedInput, savedWeights] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [
          run(names.input, { dy, filter: savedWeights }, { ...attrs, inputShape: savedInput.shape }),
          run(names.filter, { x: savedInput, dy }, { ...attrs, filterShape: savedWeights.shape }),
        ];
      },
    };
  });
  return (x, filter) => conv(x, filter) as tf.Tensor4D;
}

function run(kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor4D {
  return runKernel(kernel, inputs, attrs) as tf.Tensor4D;
}

function runKernel(kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
  if (tf.getBackend() !== 'onednn') throw new Error(`onednn kernels need the onednn backend, not "${tf.getBackend()}"`);
  return tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap);
}
