import * as tf from '@tensorflow/tfjs';
import { RESAMPLE_KERNEL } from '@adl/backend';
import { intAttribute, intsAttribute, type OnnxGraph } from './onnx-graph.js';
import type { ConstantValue, Trace, TracedKernel } from './trace.js';

export class OnnxExportError extends Error {}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

/** The traced value `id` as a graph input: its name, made an initializer on first use if it is a constant. */
type ValueName = (id: number) => string;

/**
 * Writes each traced tfjs kernel as ONNX nodes, keeping tfjs's NHWC layout between them: convolutions
 * and pools, which ONNX defines on NCHW, are wrapped in transposes (ONNX Runtime cancels adjacent ones).
 */
export function translateKernels(trace: Trace, graph: OnnxGraph): void {
  const named = new Set<number>();
  const name: ValueName = (id) => {
    const constant = trace.constants.get(id);
    if (constant && !named.has(id)) {
      named.add(id);
      graph.floats(floatValues(constant), constant.shape, `t${id}`);
    }
    return `t${id}`;
  };
  for (const kernel of trace.kernels) translate(kernel, graph, name, trace.constants);
}

function floatValues(constant: ConstantValue): Float32Array {
  return constant.values instanceof Float32Array ? constant.values : Float32Array.from(constant.values as ArrayLike<number>);
}

function translate(kernel: TracedKernel, graph: OnnxGraph, name: ValueName, constants: ReadonlyMap<number, ConstantValue>): void {
  const { kernelName, attrs, inputs, inputShapes, outputShapes } = kernel;
  const out = kernel.outputs.map((id) => `t${id}`);
  const input = (i: number) => name(inputs[i]);
  const constant = (i: number, what: string) => {
    const value = constants.get(inputs[i]);
    if (!value) throw new OnnxExportError(`${kernelName}: the ${what} must be a constant (a weight) to export`);
    return value;
  };
  // Only the kernels our networks' evaluation pass calls (each checked against ONNX Runtime in the tests).
  const simple: Record<string, string> = { Add: 'Add', Sub: 'Sub', Multiply: 'Mul', Relu: 'Relu' };
  if (kernelName in simple) {
    graph.node(simple[kernelName], inputs.map((_, i) => input(i)), out);
    return;
  }
  switch (kernelName) {
    case 'Conv2D':
    case 'DepthwiseConv2dNative': {
      const depthwise = kernelName === 'DepthwiseConv2dNative';
      const filter = constant(1, 'filter');
      const info = tf.backend_util.computeConv2DInfo(
        inputShapes[0] as [number, number, number, number],
        filter.shape as [number, number, number, number],
        attrs.strides as number | [number, number],
        (attrs.dilations as number | [number, number]) ?? 1,
        attrs.pad as 'same',
        attrs.dimRoundingMode as 'floor' | undefined,
        depthwise,
        'channelsLast',
      );
      const weights = graph.floats(depthwise ? depthwiseWeights(filter) : denseWeights(filter), weightShape(filter, depthwise));
      const { top, left, bottom, right } = info.padInfo;
      const nchw = graph.node('Transpose', [input(0)], undefined, [intsAttribute('perm', NHWC_TO_NCHW)]);
      const conv = graph.node('Conv', [nchw, weights], undefined, [
        intsAttribute('kernel_shape', [info.filterHeight, info.filterWidth]),
        intsAttribute('strides', [info.strideHeight, info.strideWidth]),
        intsAttribute('dilations', [info.dilationHeight, info.dilationWidth]),
        intsAttribute('pads', [top, left, bottom, right]),
        intAttribute('group', depthwise ? info.inChannels : 1),
      ]);
      graph.node('Transpose', [conv], out, [intsAttribute('perm', NCHW_TO_NHWC)]);
      return;
    }
    case 'MaxPool':
    case 'AvgPool': {
      const info = tf.backend_util.computePool2DInfo(inputShapes[0] as [number, number, number, number], attrs.filterSize as number, attrs.strides as number, 1, attrs.pad as 'same', attrs.dimRoundingMode as 'floor' | undefined, 'channelsLast');
      const { top, left, bottom, right } = info.padInfo;
      const nchw = graph.node('Transpose', [input(0)], undefined, [intsAttribute('perm', NHWC_TO_NCHW)]);
      const poolAttributes = [
        intsAttribute('kernel_shape', [info.filterHeight, info.filterWidth]),
        intsAttribute('strides', [info.strideHeight, info.strideWidth]),
        intsAttribute('pads', [top, left, bottom, right]),
      ];
      // tfjs averages over the window's cells inside the image only, as count_include_pad = 0 does.
      const pooled = kernelName === 'MaxPool' ? graph.node('MaxPool', [nchw], undefined, poolAttributes) : graph.node('AveragePool', [nchw], undefined, [...poolAttributes, intAttribute('count_include_pad', 0)]);
      graph.node('Transpose', [pooled], out, [intsAttribute('perm', NCHW_TO_NHWC)]);
      return;
    }
    case 'BatchMatMul': {
      const operand = (i: number, transposed: boolean) => {
        if (!transposed) return input(i);
        const rank = inputShapes[i].length;
        const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
        return graph.node('Transpose', [input(i)], undefined, [intsAttribute('perm', perm)]);
      };
      graph.node('MatMul', [operand(0, Boolean(attrs.transposeA)), operand(1, Boolean(attrs.transposeB))], out);
      return;
    }
    case 'Transpose':
      graph.node('Transpose', [input(0)], out, [intsAttribute('perm', attrs.perm as number[])]);
      return;
    case RESAMPLE_KERNEL: {
      // out[n, i, j, c] = Σ rows[i, y] · columns[j, x] · x[n, y, x, c]: two broadcast products, no transposes.
      if (attrs.transposed) throw new OnnxExportError(`${kernelName}: the transposed form (a gradient) is not exported`);
      const [n, h, w, c] = inputShapes[0];
      const [, outHeight, outWidth] = outputShapes[0];
      const rows = graph.node('MatMul', [input(1), graph.node('Reshape', [input(0), graph.int64s([n, h, w * c])])]);
      const columns = graph.node('MatMul', [input(2), graph.node('Reshape', [rows, graph.int64s([n * outHeight, w, c])])]);
      graph.node('Reshape', [columns, graph.int64s([n, outHeight, outWidth, c])], out);
      return;
    }
    case 'Reshape':
      graph.node('Reshape', [input(0), graph.int64s(outputShapes[0])], out);
      return;
    case 'Concat': {
      const axis = tf.util.parseAxisParam(attrs.axis as number, inputShapes[0])[0];
      graph.node('Concat', inputs.map((_, i) => input(i)), out, [intAttribute('axis', axis)]);
      return;
    }
    case 'Mean': {
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], inputShapes[0]);
      graph.node('ReduceMean', [input(0)], out, [intsAttribute('axes', axes), intAttribute('keepdims', attrs.keepDims ? 1 : 0)]);
      return;
    }
    case 'PadV2': {
      const paddings = attrs.paddings as [number, number][];
      const pads = graph.int64s([...paddings.map(([before]) => before), ...paddings.map(([, after]) => after)]);
      graph.node('Pad', [input(0), pads, graph.floats(Float32Array.of(attrs.constantValue as number), [])], out);
      return;
    }
    case 'Slice': {
      const [begin, size] = tf.slice_util.parseSliceParams({ shape: inputShapes[0], rank: inputShapes[0].length } as tf.Tensor, attrs.begin as number[], attrs.size as number[]);
      const axes = begin.map((_, i) => i);
      graph.node('Slice', [input(0), graph.int64s(begin), graph.int64s(begin.map((b, i) => b + size[i])), graph.int64s(axes)], out);
      return;
    }
    case 'Cast': {
      const to: Record<string, number> = { float32: 1, int32: 6, bool: 9 };
      if (!(String(attrs.dtype) in to)) throw new OnnxExportError(`Cast to ${String(attrs.dtype)} has no ONNX type here`);
      graph.node('Cast', [input(0)], out, [intAttribute('to', to[String(attrs.dtype)])]);
      return;
    }
    default:
      throw new OnnxExportError(`no ONNX translation for the tfjs kernel ${kernelName} (inputs ${JSON.stringify(inputShapes)})`);
  }
}

/** `[kh, kw, in, out]` (tfjs) → `[out, in, kh, kw]` (ONNX). */
function denseWeights({ shape: [kh, kw, cin, cout], values }: ConstantValue): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) {
    out[((o * cin + i) * kh + y) * kw + x] = values[((y * kw + x) * cin + i) * cout + o] as number;
  }
  return out;
}

/** `[kh, kw, channels, multiplier]` (tfjs) → `[channels · multiplier, 1, kh, kw]` (ONNX, group = channels). */
function depthwiseWeights({ shape: [kh, kw, channels, multiplier], values }: ConstantValue): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let c = 0; c < channels; c++) for (let m = 0; m < multiplier; m++) {
    out[((c * multiplier + m) * kh + y) * kw + x] = values[((y * kw + x) * channels + c) * multiplier + m] as number;
  }
  return out;
}

function weightShape({ shape: [kh, kw, cin, cout] }: ConstantValue, depthwise: boolean): number[] {
  return depthwise ? [cin * cout, 1, kh, kw] : [cout, cin, kh, kw];
}
