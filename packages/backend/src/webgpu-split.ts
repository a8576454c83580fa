import * as tf from '@tensorflow/tfjs';
import { dispatchGpuKernel, type KernelArgs } from './gpu-dispatch.js';

/**
 * tfjs's `SplitV` (the gradient of every concatenation: a cell's output is one) in one dispatch with an
 * output per piece, where tfjs runs a slice program per piece. Threads copy one input element each.
 */
export function splitsInOneDispatch({ inputs, attrs }: KernelArgs, maxOutputs: number): boolean {
  const { x } = inputs as { x: tf.TensorInfo };
  const pieces = piecesOf(x, attrs!);
  return x.dtype === 'float32' && pieces.sizes.length <= maxOutputs && pieces.sizes.every((s) => s > 0);
}

function piecesOf(x: tf.TensorInfo, attrs: tf.NamedAttrMap): { axis: number; sizes: number[] } {
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number | number[], axis) as number[];
  return { axis, sizes };
}

export function splitV({ inputs, attrs }: KernelArgs): tf.TensorInfo[] {
  const { x } = inputs as { x: tf.TensorInfo };
  const { axis, sizes } = piecesOf(x, attrs!);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const length = x.shape[axis];
  const count = tf.util.sizeFromShape(x.shape);
  const ends = sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0));
  const branches = sizes.map((_, k) => `${k ? 'else ' : ''}if (a < u.end${k}) {
        out${k}[(o * ${sizes[k]} + a - ${k ? `u.end${k - 1}` : '0'}) * u.inner + i] = X[thread];
      }`).join(' ');
  return dispatchGpuKernel({
    name: 'adlSplit',
    inputs: [['X', x]],
    outputs: sizes.map((size) => x.shape.map((d, i) => (i === axis ? size : d))),
    uniforms: [
      { name: 'count', type: 'i32', value: count },
      { name: 'inner', type: 'i32', value: inner },
      { name: 'length', type: 'i32', value: length },
      ...ends.map((value, k) => ({ name: `end${k}`, type: 'i32' as const, value })),
    ],
    threads: 64,
    workgroups: Math.ceil(count / 64),
    body: `
      if (thread >= u.count) { return; }
      let i = thread % u.inner;
      let a = (thread / u.inner) % u.length;
      let o = thread / (u.inner * u.length);
      ${branches}`,
  });
}
