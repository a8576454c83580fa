import * as tf from '@tensorflow/tfjs';
import type { KernelArgs } from './gpu-dispatch.js';
import { assertSamePadding } from './kernels.js';
import { DILATED_FILTER_GRADIENT_KERNEL } from './webgpu-conv-gradients.js';
import { assertFloat, elementwise, run } from './webgpu-programs.js';

/**
 * Dilated "same" convolutions at stride 1 on webgpu, as one forward kernel each way, where the stock
 * set goes through space-to-batch (tfjs-core refuses the gradient of a dilated convolution): a pad, a
 * transpose and reshapes before the convolution and a transpose and slice after it, each a dispatch,
 * and as many again in the backward pass. tfjs's forward kernels take a dilation; the input gradient is
 * the same convolution of dy with the filter turned by 180° (its channels swapped for a dense one; for a
 * depthwise one a kernel that reads the filter turned, `DEPTHWISE_INPUT_GRADIENT_KERNEL`), and the
 * filter gradient is the split kernel (webgpu-conv-gradients.ts), which takes a dilation.
 */

/**
 * `DEPTHWISE_INPUT_GRADIENT_KERNEL`: inputs `{ dy, filter }` (`[k, k, channels, 1]`), attrs `dilation`,
 * `padding` ("same", stride 1): `dx[b, i, j, c] = Σ_{p, q} dy[b, i + padding − p·d, j + padding − q·d, c] · filter[p, q, c]`.
 */
export const DEPTHWISE_INPUT_GRADIENT_KERNEL = 'AdlDepthwiseInputGradDilated';

export function depthwiseInputGradient({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  assertFloat(DEPTHWISE_INPUT_GRADIENT_KERNEL, [dy, filter]);
  const { dilation, padding } = attrs as { dilation: number; padding: number };
  const kernel = filter.shape[0];
  if (filter.shape[3] !== 1) throw new RangeError(`${DEPTHWISE_INPUT_GRADIENT_KERNEL} takes a channel multiplier of 1, not ${filter.shape[3]}`);
  return run(backend, elementwise(`adlDepthwiseInputGrad_${kernel}x${dilation}x${padding}`, dy.shape, ['Dy', 'W'], `
    let C = uniforms.dyShape[3]; let Wd = uniforms.dyShape[2]; let H = uniforms.dyShape[1];
    let c = index % C; let j = (index / C) % Wd; let i = (index / (C * Wd)) % H; let b = index / (C * Wd * H);
    var sum = 0.0;
    for (var p = 0; p < ${kernel}; p = p + 1) {
      let row = i + ${padding} - p * ${dilation};
      if (row < 0 || row >= H) { continue; }
      for (var q = 0; q < ${kernel}; q = q + 1) {
        let col = j + ${padding} - q * ${dilation};
        if (col < 0 || col >= Wd) { continue; }
        sum = sum + Dy[((b * H + row) * Wd + col) * C + c] * W[(p * ${kernel} + q) * C + c];
      }
    }
    result[index] = sum;`, undefined, kernel * kernel), [dy, filter]);
}

/**
 * `TURNED_FILTER_KERNEL`: input `{ filter }` `[k, k, in, out]`; output `[k, k, out, in]`, the filter
 * turned by 180° with its channels swapped, which a dense convolution's input gradient convolves dy with.
 */
export const TURNED_FILTER_KERNEL = 'AdlTurnedFilter';

export function turnedFilter({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { filter } = inputs as { filter: tf.TensorInfo };
  assertFloat(TURNED_FILTER_KERNEL, [filter]);
  const [kh, kw, inChannels, outChannels] = filter.shape;
  return run(backend, elementwise(`adlTurnedFilter_${filter.shape.join('x')}`, [kh, kw, outChannels, inChannels], ['W'], `
    let i = index % ${inChannels}; let o = (index / ${inChannels}) % ${outChannels};
    let q = (index / ${inChannels * outChannels}) % ${kw}; let p = index / ${inChannels * outChannels * kw};
    result[index] = W[(((${kh - 1} - p) * ${kw} + (${kw - 1} - q)) * ${inChannels} + i) * ${outChannels} + o];`), [filter]);
}

/**
 * `forward(x, filter)` with its gradients from `gradients(dy, x, filter)` (input, then filter), keeping
 * x and the filter for them.
 */
function withGradients(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  forward: (input: tf.Tensor4D, weights: tf.Tensor4D) => tf.Tensor4D,
  gradients: (dy: tf.Tensor4D, input: tf.Tensor4D, weights: tf.Tensor4D) => [tf.Tensor, tf.Tensor],
): tf.Tensor4D {
  const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weights, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([input, weights]);
    return {
      value: forward(input, weights),
      gradFunc: (dy: tf.Tensor, [savedInput, savedWeights]: tf.Tensor[]) => gradients(dy as tf.Tensor4D, savedInput as tf.Tensor4D, savedWeights as tf.Tensor4D),
    };
  });
  return conv(x, filter) as tf.Tensor4D;
}

export function dilatedConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, dilation: number, padding: number): tf.Tensor4D {
  assertSamePadding(filter.shape[0], dilation, padding);
  return withGradients(x, filter, (input, weights) => tf.conv2d(input, weights, 1, padding, 'NHWC', dilation), (dy, input, weights) => [
    tf.conv2d(dy, tf.engine().runKernel(TURNED_FILTER_KERNEL, { filter: weights }, {}) as tf.Tensor4D, 1, padding, 'NHWC', dilation),
    tf.engine().runKernel(DILATED_FILTER_GRADIENT_KERNEL, { x: input, dy }, { strides: 1, dilations: dilation, pad: padding, filterShape: weights.shape }) as tf.Tensor,
  ]);
}

export function dilatedDepthwiseConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, dilation: number): tf.Tensor4D {
  const padding = (dilation * (filter.shape[0] - 1)) / 2;
  assertSamePadding(filter.shape[0], dilation, padding);
  return withGradients(x, filter, (input, weights) => tf.depthwiseConv2d(input, weights, 1, padding, 'NHWC', dilation), (dy, input, weights) => [
    tf.engine().runKernel(DEPTHWISE_INPUT_GRADIENT_KERNEL, { dy, filter: weights }, { dilation, padding }) as tf.Tensor,
    tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: input, dy }, { strides: 1, dilations: dilation, pad: padding, filterShape: weights.shape }) as tf.Tensor,
  ]);
}
