import * as tf from '@tensorflow/tfjs';
import { RESAMPLE_KERNEL } from './fused-kernels.js';
import type { KernelArgs } from './gpu-dispatch.js';
import { assertFloat, elementwise, run } from './webgpu-programs.js';

type TensorInfo = tf.TensorInfo;
type Backend = tf.KernelBackend & {
  tensorMap: { get(dataId: object): { values: Float32Array | null } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
};

/**
 * The resampling matrices (bilinear weights, every-other selections) are made on the CPU at every
 * call, and each would be uploaded through its own staging buffer: they are kept on the GPU instead,
 * one copy per content, for the life of the backend (a few per network size).
 */
const resident = new Map<string, TensorInfo>();

/** Two 32-bit FNV-1a hashes of the values' bits, with the shape: the key of a matrix's content. */
function contentKey(shape: number[], values: Float32Array): string {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < bits.length; i++) {
    a = Math.imul(a ^ bits[i], 0x01000193);
    b = Math.imul(b ^ bits[i], 0x5bd1e995) ^ (b >>> 15);
  }
  return `${shape.join('x')}:${(a >>> 0).toString(16)}:${(b >>> 0).toString(16)}`;
}

/** `matrix`, or its resident copy where it is still on the CPU. */
function onGpu(backend: tf.KernelBackend, matrix: TensorInfo): TensorInfo {
  const values = (backend as Backend).tensorMap.get(matrix.dataId).values;
  if (values == null || matrix.dtype !== 'float32') return matrix;
  const key = contentKey(matrix.shape, values);
  let copy = resident.get(key);
  if (!copy) resident.set(key, (copy = (backend as Backend).makeTensorInfo(matrix.shape, 'float32', Float32Array.from(values))));
  return copy;
}

/**
 * The separable resample (`RESAMPLE_KERNEL`) in two passes, rows then columns, each output element
 * summing one input row or column: no transposes, and no gradient for the constant matrices.
 */
export function resample({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  const [rows, columns] = [(inputs as { rows: TensorInfo }).rows, (inputs as { columns: TensorInfo }).columns].map((m) => onGpu(backend, m));
  assertFloat(RESAMPLE_KERNEL, [x, rows, columns]);
  const transposed = Boolean(attrs?.transposed);
  const [n, height, width, channels] = x.shape;
  const outHeight = rows.shape[transposed ? 1 : 0];
  const outWidth = columns.shape[transposed ? 1 : 0];
  // M(a, i): the weight of input line i in output line a, from M [out, in] or, transposed, [in, out].
  const weight = (matrix: string, outLines: string, inLines: string) =>
    transposed ? `${matrix}[i * ${outLines} + a]` : `${matrix}[a * ${inLines} + i]`;
  // The sizes are written into the shader, so they are part of its key (tfjs keys programs by ranks only).
  const sizes = `${[n, height, width, channels, outHeight, outWidth].join('x')}${transposed ? 't' : ''}`;
  const byRows = run(backend, elementwise(`adlResampleRows_${sizes}`, [n, outHeight, width, channels], ['X', 'R'], `
    let c = index % ${channels}; let j = (index / ${channels}) % ${width}; let a = (index / ${channels * width}) % ${outHeight};
    let b = index / ${channels * width * outHeight};
    var s = 0.0;
    for (var i = 0; i < ${height}; i = i + 1) { s = s + ${weight('R', String(outHeight), String(height))} * X[((b * ${height} + i) * ${width} + j) * ${channels} + c]; }
    result[index] = s;`, undefined, height), [x, rows]);
  const out = run(backend, elementwise(`adlResampleColumns_${sizes}`, [n, outHeight, outWidth, channels], ['T', 'C'], `
    let c = index % ${channels}; let a = (index / ${channels}) % ${outWidth}; let row = index / ${channels * outWidth};
    var s = 0.0;
    for (var i = 0; i < ${width}; i = i + 1) { s = s + ${weight('C', String(outWidth), String(width))} * T[(row * ${width} + i) * ${channels} + c]; }
    result[index] = s;`, undefined, width), [byRows, columns]);
  backend.disposeData(byRows.dataId);
  return out;
}

