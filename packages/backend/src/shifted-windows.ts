import * as tf from '@tensorflow/tfjs';

/**
 * The k×k shifted views of a padded NHWC tensor that a convolution or pool at the given stride
 * and dilation reads: element `kh * k + kw` is `padded[:, kh·d + s·y, kw·d + s·x, :]` for
 * `y < outHeight`, `x < outWidth`. Only `slice`, `pad` and `reshape` are used, so gradients flow
 * on every backend (tfjs has no gradient for `stridedSlice`).
 */
export function shiftedWindows(
  padded: tf.Tensor4D,
  kernel: number,
  stride: number,
  dilation: number,
  outHeight: number,
  outWidth: number,
): tf.Tensor4D[] {
  const [batch, height, width, channels] = padded.shape;
  const windows: tf.Tensor4D[] = [];
  if (stride === 1) {
    for (let kh = 0; kh < kernel; kh++) {
      for (let kw = 0; kw < kernel; kw++) {
        windows.push(
          tf.slice(padded, [0, kh * dilation, kw * dilation, 0], [batch, outHeight, outWidth, channels]),
        );
      }
    }
    return windows;
  }
  // Strided: split rows and columns into (index / stride, index % stride) by a reshape, so that
  // every window is a plain slice at one phase.
  const lastOffset = (kernel - 1) * dilation;
  const rows = stride * (Math.floor(lastOffset / stride) + outHeight);
  const cols = stride * (Math.floor(lastOffset / stride) + outWidth);
  const fitted = tf.pad(padded, [
    [0, 0],
    [0, Math.max(0, rows - height)],
    [0, Math.max(0, cols - width)],
    [0, 0],
  ]);
  const cropped = tf.slice(fitted, [0, 0, 0, 0], [batch, rows, cols, channels]);
  const phased = tf.reshape(cropped, [batch, rows / stride, stride, cols / stride, stride, channels]);
  for (let kh = 0; kh < kernel; kh++) {
    for (let kw = 0; kw < kernel; kw++) {
      const rowOffset = kh * dilation;
      const colOffset = kw * dilation;
      const window = tf.slice(
        phased,
        [0, Math.floor(rowOffset / stride), rowOffset % stride, Math.floor(colOffset / stride), colOffset % stride, 0],
        [batch, outHeight, 1, outWidth, 1, channels],
      );
      windows.push(tf.reshape(window, [batch, outHeight, outWidth, channels]));
    }
  }
  return windows;
}

export function padSpatial(x: tf.Tensor4D, padding: number, value = 0): tf.Tensor4D {
  if (padding === 0) return x;
  return tf.pad(
    x,
    [
      [0, 0],
      [padding, padding],
      [padding, padding],
      [0, 0],
    ],
    value,
  );
}
