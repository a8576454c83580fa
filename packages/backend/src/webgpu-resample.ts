import * as tf from '@tensorflow/tfjs';
import { RESAMPLE_KERNEL } from './fused-kernels.js';
import type { KernelArgs } from './gpu-dispatch.js';
import { assertFloat, elementwise, run } from './webgpu-programs.js';

type TensorInfo = tf.TensorInfo;
type Backend = tf.KernelBackend & {
  tensorMap: { get(dataId: object): { values: Float32Array | null } };
  makeTensorInfo(shape: number[], dtype: 'float32' | 'int32', values: Float32Array | Int32Array): TensorInfo;
};

/** A resampling matrix kept on the GPU, with where each of its rows and columns is nonzero. */
interface ResidentMatrix {
  readonly matrix: TensorInfo;
  /** int32 `[rows, 2]`: the first and last column of each row that is not zero (1, 0 where none is). */
  readonly rowRanges: TensorInfo;
  /** int32 `[columns, 2]`: the same for each column. */
  readonly columnRanges: TensorInfo;
  /** The longest range of a row and of a column. */
  readonly longestRow: number;
  readonly longestColumn: number;
}

/**
 * The resampling matrices (bilinear weights, every-other selections) are made on the CPU at every
 * call, and each would be uploaded through its own staging buffer: they are kept on the GPU instead,
 * one copy per content, for the life of the backend (a few per network size), with the ranges of their
 * nonzeros, which a bilinear or selection matrix has a few of per row and column.
 */
const resident = new Map<string, ResidentMatrix>();

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

/** `[lines, 2]` first and last nonzero of each line of `values` (`[rows, columns]`), by row or by column; and the longest. */
function nonzeroRanges(values: Float32Array, [rows, columns]: number[], byRow: boolean): { ranges: Int32Array; longest: number } {
  const [lines, length] = byRow ? [rows, columns] : [columns, rows];
  const ranges = new Int32Array(2 * lines);
  let longest = 0;
  for (let line = 0; line < lines; line++) {
    let [first, last] = [1, 0];
    for (let k = 0; k < length; k++) {
      if (values[byRow ? line * columns + k : k * columns + line] === 0) continue;
      if (first > last) first = k;
      last = k;
    }
    ranges.set([first, last], 2 * line);
    longest = Math.max(longest, last - first + 1);
  }
  return { ranges, longest };
}

/** The resident copy of `matrix` where it is still on the CPU; undefined where it is not (computed on the GPU). */
function onGpu(backend: tf.KernelBackend, matrix: TensorInfo): ResidentMatrix | undefined {
  const values = (backend as Backend).tensorMap.get(matrix.dataId).values;
  if (values == null || matrix.dtype !== 'float32' || matrix.shape.length !== 2) return undefined;
  const key = contentKey(matrix.shape, values);
  let copy = resident.get(key);
  if (!copy) {
    const make = (shape: number[], dtype: 'float32' | 'int32', data: Float32Array | Int32Array) => (backend as Backend).makeTensorInfo(shape, dtype, data);
    const [rows, columns] = [nonzeroRanges(values, matrix.shape, true), nonzeroRanges(values, matrix.shape, false)];
    copy = {
      matrix: make(matrix.shape, 'float32', Float32Array.from(values)),
      rowRanges: make([matrix.shape[0], 2], 'int32', rows.ranges),
      columnRanges: make([matrix.shape[1], 2], 'int32', columns.ranges),
      longestRow: rows.longest,
      longestColumn: columns.longest,
    };
    resident.set(key, copy);
  }
  return copy;
}

/**
 * The separable resample (`RESAMPLE_KERNEL`): one pass where both matrices are resident (each output
 * element sums the window their nonzeros span: 2×2 for a bilinear upsampling, about 8×8 for its
 * transpose), else two dense passes, rows then columns. No transposes, and no gradient for the
 * constant matrices.
 */
export function resample({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, rows, columns } = inputs as Record<'x' | 'rows' | 'columns', TensorInfo>;
  assertFloat(RESAMPLE_KERNEL, [x, rows, columns]);
  const transposed = Boolean(attrs?.transposed);
  const [rowMatrix, columnMatrix] = [onGpu(backend, rows), onGpu(backend, columns)];
  if (rowMatrix && columnMatrix) return sparseResample(backend, x, rowMatrix, columnMatrix, transposed);
  return denseResample(backend, x, rows, columns, transposed);
}

/** M(a, i): the weight of input line i in output line a, from M `[out, in]` or, transposed, `[in, out]`. */
const weightOf = (transposed: boolean, matrix: string, a: string, i: string, outLines: number, inLines: number) =>
  transposed ? `${matrix}[${i} * ${outLines} + ${a}]` : `${matrix}[${a} * ${inLines} + ${i}]`;

function sparseResample(backend: tf.KernelBackend, x: TensorInfo, rows: ResidentMatrix, columns: ResidentMatrix, transposed: boolean): TensorInfo {
  const [n, height, width, channels] = x.shape;
  const outHeight = rows.matrix.shape[transposed ? 1 : 0];
  const outWidth = columns.matrix.shape[transposed ? 1 : 0];
  // Output line a reads the input lines where row a (or, transposed, column a) of its matrix is nonzero.
  const [rowRanges, columnRanges] = transposed ? [rows.columnRanges, columns.columnRanges] : [rows.rowRanges, columns.rowRanges];
  const loop = (transposed ? rows.longestColumn * columns.longestColumn : rows.longestRow * columns.longestRow);
  // The sizes are written into the shader, so they are part of its key (tfjs keys programs by ranks only).
  const sizes = `${[n, height, width, channels, outHeight, outWidth].join('x')}${transposed ? 't' : ''}`;
  return run(backend, elementwise(`adlResample_${sizes}`, [n, outHeight, outWidth, channels], ['X', 'R', 'C', 'RR', 'CR'], `
    let c = index % ${channels}; let q = (index / ${channels}) % ${outWidth}; let p = (index / ${channels * outWidth}) % ${outHeight};
    let b = index / ${channels * outWidth * outHeight};
    var s = 0.0;
    for (var i = RR[2 * p]; i <= RR[2 * p + 1]; i = i + 1) {
      var t = 0.0;
      for (var j = CR[2 * q]; j <= CR[2 * q + 1]; j = j + 1) {
        t = t + ${weightOf(transposed, 'C', 'q', 'j', outWidth, width)} * X[((b * ${height} + i) * ${width} + j) * ${channels} + c];
      }
      s = s + ${weightOf(transposed, 'R', 'p', 'i', outHeight, height)} * t;
    }
    result[index] = s;`, undefined, loop), [x, rows.matrix, columns.matrix, rowRanges, columnRanges]);
}

function denseResample(backend: tf.KernelBackend, x: TensorInfo, rows: TensorInfo, columns: TensorInfo, transposed: boolean): TensorInfo {
  const [n, height, width, channels] = x.shape;
  const outHeight = rows.shape[transposed ? 1 : 0];
  const outWidth = columns.shape[transposed ? 1 : 0];
  const sizes = `${[n, height, width, channels, outHeight, outWidth].join('x')}${transposed ? 't' : ''}`;
  const byRows = run(backend, elementwise(`adlResampleRows_${sizes}`, [n, outHeight, width, channels], ['X', 'R'], `
    let c = index % ${channels}; let j = (index / ${channels}) % ${width}; let a = (index / ${channels * width}) % ${outHeight};
    let b = index / ${channels * width * outHeight};
    var s = 0.0;
    for (var i = 0; i < ${height}; i = i + 1) { s = s + ${weightOf(transposed, 'R', 'a', 'i', outHeight, height)} * X[((b * ${height} + i) * ${width} + j) * ${channels} + c]; }
    result[index] = s;`, undefined, height), [x, rows]);
  const out = run(backend, elementwise(`adlResampleColumns_${sizes}`, [n, outHeight, outWidth, channels], ['T', 'C'], `
    let c = index % ${channels}; let a = (index / ${channels}) % ${outWidth}; let row = index / ${channels * outWidth};
    var s = 0.0;
    for (var i = 0; i < ${width}; i = i + 1) { s = s + ${weightOf(transposed, 'C', 'a', 'i', outWidth, width)} * T[(row * ${width} + i) * ${channels} + c]; }
    result[index] = s;`, undefined, width), [byRows, columns]);
  backend.disposeData(byRows.dataId);
  return out;
}
