/**
 * The oneDNN addon. Tensors are NHWC Float32Arrays; dense filters are `[kh, kw, in, out]`,
 * grouped filters `[kh, kw, channels, multiplier]` with `groups = channels`.
 */
export interface OneDnnBinding {
  /**
   * mode 0: `out = conv(a = x, b = filter)`; 1: `out = dx` from `(a = dy, b = filter)`;
   * 2: `out = dFilter` from `(a = x, b = dy)`. `params`: `[n, h, w, c, outH, outW, outC, kh, kw,
   * groups, strideH, strideW, dilationH, dilationW, padTop, padLeft]` (dilation 1 = dense).
   */
  conv(mode: 0 | 1 | 2, a: Float32Array, b: Float32Array, out: Float32Array, params: Int32Array): void;
  /** `out[batch] = op(a)[batch] · op(b)[batch]`; `params`: `[batchA, batchB, m, k, n, transposeA, transposeB]`, a batch of 1 broadcasts. */
  matMul(a: Float32Array, b: Float32Array, out: Float32Array, params: Int32Array): void;
}

/** The addon, or `null` when it was not built or does not load. */
export declare const binding: OneDnnBinding | null;
/** Why `binding` is `null`. */
export declare const reason: string | null;
