import * as tf from '@tensorflow/tfjs';
import { stockKernels, type Kernels } from '@adl/backend';
import { IMAGENET_MEAN, IMAGENET_STD, type RasterImage } from '@adl/data-cityscapes';
import type { InferenceModel } from '../model.js';
import { encodeModel, intAttribute, intsAttribute, OnnxGraph, tensorValueInfo } from './onnx-graph.js';
import { traceKernels } from './trace.js';
import { translateKernels } from './translate-kernels.js';

/** The operator set the exported models use. */
export const ONNX_OPSET = 17;

export interface OnnxExportOptions {
  /** The input size the model accepts (the graph's shapes are fixed at export). */
  readonly height: number;
  readonly width: number;
  /** Per-channel normalisation built into the graph (the training's: ImageNet mean and std, 0–255 units). */
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  /** Written into the model's metadata. */
  readonly producerVersion?: string;
}

export interface OnnxExport {
  /** The serialised ModelProto. */
  readonly bytes: Uint8Array;
  /** The ONNX operator types the graph uses, sorted. */
  readonly opTypes: string[];
  readonly inputShape: [number, number, number, number];
  readonly classes: number;
}

/**
 * The forward pass with tfjs's own kernels (one kernel per convolution, dilated or not, and per pool),
 * which is what the trace translates; the values equal every other kernel set's.
 */
const EXPORT_KERNELS: Kernels = {
  ...stockKernels,
  name: 'export',
  conv2d: (x, filter, { stride, dilation, padding }) => tf.conv2d(x, filter, stride, padding, 'NHWC', dilation),
  depthwiseConv2d: (x, filter, dilation) => tf.depthwiseConv2d(x, filter, 1, (dilation * (filter.shape[0] - 1)) / 2, 'NHWC', dilation),
  // Same padding; tfjs's forward average excludes the padded cells, as the other sets do.
  avgPool3x3: (x) => tf.avgPool(x, 3, 1, 'same'),
};

/**
 * Writes a segmentation model in evaluation mode as an ONNX model: input `image`, float
 * `[1, 3, height, width]`, RGB in 0–255 (normalised inside the graph); outputs `logits`, float
 * `[1, classes, height, width]`, and `labels`, int64 `[1, height, width]` (argmax over the classes).
 */
export async function exportOnnx(model: InferenceModel, options: OnnxExportOptions): Promise<OnnxExport> {
  const { height, width, mean = IMAGENET_MEAN, std = IMAGENET_STD } = options;
  const input = tf.zeros([1, height, width, 3]);
  let trace;
  try {
    trace = await traceKernels(input, (x) => model.apply(x as tf.Tensor4D, { training: false, kernels: EXPORT_KERNELS }));
  } finally {
    input.dispose();
  }
  const classes = trace.outputShape[3];
  const graph = new OnnxGraph();
  const centred = graph.node('Sub', ['image', graph.floats(Float32Array.from(mean), [1, 3, 1, 1], 'mean')]);
  const normalised = graph.node('Div', [centred, graph.floats(Float32Array.from(std), [1, 3, 1, 1], 'std')]);
  graph.node('Transpose', [normalised], [`t${trace.inputId}`], [intsAttribute('perm', [0, 2, 3, 1])]);
  translateKernels(trace, graph);
  graph.node('Transpose', [`t${trace.outputId}`], ['logits'], [intsAttribute('perm', [0, 3, 1, 2])]);
  graph.node('ArgMax', ['logits'], ['labels'], [intAttribute('axis', 1), intAttribute('keepdims', 0)]);
  const bytes = encodeModel(
    {
      name: 'auto-deeplab',
      node: graph.nodes,
      initializer: graph.initializers,
      input: [tensorValueInfo('image', 'float', [1, 3, height, width])],
      output: [tensorValueInfo('logits', 'float', [1, classes, height, width]), tensorValueInfo('labels', 'int64', [1, height, width])],
    },
    ONNX_OPSET,
    options.producerVersion ?? '',
  );
  return { bytes, opTypes: [...graph.opTypes].sort(), inputShape: [1, 3, height, width], classes };
}

/** An RGB image as the exported model's `image` input: planar `[1, 3, height, width]` floats in 0–255. */
export function onnxImageInput(image: RasterImage): Float32Array {
  if (image.channels !== 3) throw new RangeError(`an RGB image is needed, got ${image.channels} channel(s)`);
  const pixels = image.height * image.width;
  const planes = new Float32Array(3 * pixels);
  for (let i = 0; i < pixels; i++) for (let c = 0; c < 3; c++) planes[c * pixels + i] = image.data[3 * i + c];
  return planes;
}
