import * as tf from '@tensorflow/tfjs';
import { RESAMPLE_KERNEL, matMul } from '@adl/backend';
import type { Size } from './layer.js';

/**
 * Row-interpolation matrix `[outLength, inLength]` of bilinear resizing with aligned corners
 * (as DeepLab): output i reads input position i·(in − 1)/(out − 1).
 */
export function bilinearMatrix(outLength: number, inLength: number): Float32Array {
  const weights = new Float32Array(outLength * inLength);
  const scale = outLength > 1 ? (inLength - 1) / (outLength - 1) : 0;
  for (let i = 0; i < outLength; i++) {
    const source = i * scale;
    // The clamps bind only at the last row, where the fraction is 0.
    const low = Math.min(Math.floor(source), inLength - 1);
    const high = Math.min(low + 1, inLength - 1);
    const fraction = source - low;
    weights[i * inLength + low] += 1 - fraction;
    weights[i * inLength + high] += fraction;
  }
  return weights;
}

/**
 * Bilinear resize of an NHWC tensor to `size` (corners aligned), as two matrix products. tfjs's
 * ResizeBilinearGrad returns a transposed shape for non-square inputs on cpu and wrong values on
 * wasm; this form has exact gradients on every backend.
 */
export function resizeBilinear(x: tf.Tensor4D, size: Size): tf.Tensor4D {
  const [, height, width] = x.shape;
  const [outHeight, outWidth] = size;
  if (height === outHeight && width === outWidth) return x;
  return separableResample(x, bilinearMatrix(outHeight, height), bilinearMatrix(outWidth, width), size);
}

/**
 * `out[n, i, j, c] = Σ_{y, x} rows[i, y] · columns[j, x] · x[n, y, x, c]`: a resampling that acts on
 * rows and columns separately. One pass over the matrices' nonzeros where the backend has the kernel
 * (onednn); elsewhere two matrix products (fast on every backend, exact gradients).
 */
export function separableResample(x: tf.Tensor4D, rowMatrix: Float32Array, columnMatrix: Float32Array, [outHeight, outWidth]: Size): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  const rowTensor = tf.tensor2d(rowMatrix, [outHeight, height]);
  const columnTensor = tf.tensor2d(columnMatrix, [outWidth, width]);
  if (x.dtype === 'float32' && tf.getKernel(RESAMPLE_KERNEL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(RESAMPLE_KERNEL, { x, rows: rowTensor, columns: columnTensor }, { transposed: false }) as tf.Tensor4D;
  }
  // Rows: [H, N·W·C] → [H', N·W·C].
  const rows = matMul(rowTensor, tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [height, batch * width * channels]));
  // Columns: [W, H'·N·C] → [W', H'·N·C].
  const byColumn = tf.transpose(tf.reshape(rows, [outHeight, batch, width, channels]), [2, 0, 1, 3]);
  const columns = matMul(columnTensor, tf.reshape(byColumn, [width, outHeight * batch * channels]));
  return tf.transpose(tf.reshape(columns, [outWidth, outHeight, batch, channels]), [2, 1, 0, 3]);
}
