import { describe, expect, it } from 'vitest';
import { binding, reason } from './binding.js';

/**
 * Every product of a direct NHWC convolution (dense, or grouped with multiplier 1): `visit(xi, wi, oi)`
 * for the input, filter and output indices of each term x[xi] · w[wi] that adds into out[oi].
 */
function forEachProduct(p: number[], visit: (xi: number, wi: number, oi: number) => void): void {
  const [n, h, wd, c, oh, ow, oc, kh, kw, groups, sh, sw, dh, dw, pt, pl] = p;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++)
        for (let o = 0; o < oc; o++)
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const yy = y * sh + i * dh - pt;
              const xx = xo * sw + j * dw - pl;
              if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
              const oi = ((b * oh + y) * ow + xo) * oc + o;
              if (groups === 1) {
                for (let ci = 0; ci < c; ci++) visit(((b * h + yy) * wd + xx) * c + ci, ((i * kw + j) * c + ci) * oc + o, oi);
              } else {
                visit(((b * h + yy) * wd + xx) * c + o, (i * kw + j) * c + o, oi);
              }
            }
}

/** The reference convolution for oneDNN. */
function referenceConv(x: Float32Array, w: Float32Array, p: number[]): Float32Array {
  const out = new Float64Array(p[0] * p[4] * p[5] * p[6]);
  forEachProduct(p, (xi, wi, oi) => (out[oi] += x[xi] * w[wi]));
  return Float32Array.from(out);
}

/** Its filter gradient for the output gradient `dy`. */
function referenceFilterGradient(x: Float32Array, dy: Float32Array, p: number[]): Float32Array {
  const [, , , c, , , oc, kh, kw, groups] = p;
  const out = new Float64Array(kh * kw * (c / groups) * oc);
  forEachProduct(p, (xi, wi, oi) => (out[wi] += x[xi] * dy[oi]));
  return Float32Array.from(out);
}

const random = (length: number, seed: number) => {
  let s = seed;
  return Float32Array.from({ length }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
};
const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * b[i], 0);

describe.runIf(binding)('the oneDNN addon', () => {
  // [n, h, w, c, oh, ow, oc, kh, kw, groups, sh, sw, dh, dw, pt, pl]
  it.each([
    ['3×3 "same"', [2, 7, 6, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1]],
    ['3×3 stride 2', [2, 7, 6, 3, 4, 3, 4, 3, 3, 1, 2, 2, 1, 1, 1, 1]],
    ['3×3 stride 2 unpadded (negative right padding)', [1, 7, 6, 3, 3, 2, 2, 3, 3, 1, 2, 2, 1, 1, 0, 0]],
    ['3×3 dilation 2', [1, 8, 8, 2, 8, 8, 3, 3, 3, 1, 1, 1, 2, 2, 2, 2]],
    ['depthwise 5×5 dilation 2', [2, 9, 9, 4, 9, 9, 4, 5, 5, 4, 1, 1, 2, 2, 4, 4]],
    // Taps that only read padding: computed without them (a zero gradient for them).
    ['3×3 dilation 3 on a 3×3 map: only the centre tap reaches it', [2, 3, 3, 4, 3, 3, 5, 3, 3, 1, 1, 1, 3, 3, 3, 3]],
    ['depthwise 5×5 dilation 2 on a 3×3 map: the middle 3×3 taps', [2, 3, 3, 4, 3, 3, 4, 5, 5, 4, 1, 1, 2, 2, 4, 4]],
    ['3×3 dilation 12 × 2 on a 9×5 map: the centre row of taps', [1, 9, 5, 3, 9, 5, 2, 3, 3, 1, 1, 1, 12, 2, 12, 2]],
    // Strided 1×1 convolutions, computed at unit stride on the pixels they read (unit_stride.h).
    ['1×1 stride 2 on an even map, 4 channels (skips the last row and column)', [2, 8, 8, 4, 4, 4, 2, 1, 1, 1, 2, 2, 1, 1, 0, 0]],
    ['1×1 stride 2 × 3, padded: border outputs read zeros', [1, 7, 10, 3, 5, 4, 5, 1, 1, 1, 2, 3, 1, 1, 1, 1]],
    ['1×1 depthwise stride 2', [2, 6, 5, 4, 3, 3, 4, 1, 1, 4, 2, 2, 1, 1, 0, 0]],
  ])('%s: forward and filter gradient equal direct loops; the input gradient is the adjoint', (_name, p) => {
    const [n, h, w, c, oh, ow, oc, kh, kw, groups] = p;
    const x = random(n * h * w * c, 1);
    const filter = random(kh * kw * (c / groups) * oc, 2);
    const dy = random(n * oh * ow * oc, 3);
    const params = Int32Array.from(p);
    const y = new Float32Array(dy.length);
    binding!.conv(0, x, filter, y, params);
    const expected = referenceConv(x, filter, p);
    y.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
    const dx = new Float32Array(x.length);
    const dFilter = new Float32Array(filter.length);
    binding!.conv(1, dy, filter, dx, params);
    binding!.conv(2, x, dy, dFilter, params);
    // <conv(x, f), dy> = <x, dx> = <f, dFilter> for a linear map and its adjoints.
    const reference = dot(y, dy);
    expect(dot(x, dx)).toBeCloseTo(reference, 3);
    expect(dot(filter, dFilter)).toBeCloseTo(reference, 3);
    const expectedFilter = referenceFilterGradient(x, dy, p);
    dFilter.forEach((v, i) => expect(v).toBeCloseTo(expectedFilter[i], 3));
  });

  it('matMul with transposes and a broadcast batch', () => {
    const [m, k, n] = [3, 4, 2];
    const a = random(2 * k * m, 4); // two [k, m] matrices, used transposed
    const b = random(k * n, 5); // one [k, n] matrix, broadcast
    const out = new Float32Array(2 * m * n);
    binding!.matMul(a, b, out, Int32Array.of(2, 1, m, k, n, 1, 0));
    for (let batch = 0; batch < 2; batch++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let t = 0; t < k; t++) sum += a[batch * k * m + t * m + i] * b[t * n + j];
          expect(out[(batch * m + i) * n + j]).toBeCloseTo(sum, 5);
        }
  });

  it('strided: a broadcast add, a transpose, and a reduction over the outer axis', () => {
    const a = Float32Array.of(1, 2, 3, 4, 5, 6); // [2, 3]
    const out = new Float32Array(6);
    binding!.strided(1, Int32Array.of(2, 3), out, 0, Int32Array.of(3, 1), a, 0, Int32Array.of(3, 1), Float32Array.of(10, 20, 30), 0, Int32Array.of(0, 1));
    expect([...out]).toEqual([11, 22, 33, 14, 25, 36]);
    binding!.strided(0, Int32Array.of(3, 2), out, 0, Int32Array.of(2, 1), a, 0, Int32Array.of(1, 3));
    expect([...out]).toEqual([1, 4, 2, 5, 3, 6]);
    const sums = new Float32Array(3);
    binding!.strided(10, Int32Array.of(2, 3), sums, 0, Int32Array.of(0, 1), a, 0, Int32Array.of(3, 1));
    expect([...sums]).toEqual([5, 7, 9]);
  });

  it('batchNorm: per-channel statistics over the rows; its gradient is the adjoint of its linearisation', () => {
    const [rows, channels, epsilon] = [30, 3, 1e-5];
    const x = random(rows * channels, 6).map((v, i) => v * (1 + (i % channels)) + (i % channels));
    const [y, mean, variance] = [new Float32Array(x.length), new Float32Array(channels), new Float32Array(channels)];
    binding!.batchNorm(x, y, mean, variance, Int32Array.of(rows, channels), epsilon);
    for (let c = 0; c < channels; c++) {
      const column = Array.from({ length: rows }, (_, r) => x[r * channels + c]);
      const m = column.reduce((a, b) => a + b, 0) / rows;
      const v = column.reduce((a, b) => a + (b - m) ** 2, 0) / rows;
      expect(mean[c]).toBeCloseTo(m, 5);
      expect(variance[c]).toBeCloseTo(v, 5);
      column.forEach((value, r) => expect(y[r * channels + c]).toBeCloseTo((value - m) / Math.sqrt(v + epsilon), 4));
    }
    // <dy, J·u> (central difference of the forward along u) = <dx, u>.
    const [dy, u] = [random(x.length, 7), random(x.length, 8)];
    const dx = new Float32Array(x.length);
    binding!.batchNormGrad(dy, x, mean, variance, dx, Int32Array.of(rows, channels), epsilon);
    const h = 1e-2;
    const at = (sign: number) => {
      const out = new Float32Array(x.length);
      binding!.batchNorm(x.map((v, i) => v + sign * h * u[i]), out, new Float32Array(channels), new Float32Array(channels), Int32Array.of(rows, channels), epsilon);
      return out;
    };
    const [plus, minus] = [at(1), at(-1)];
    const directional = dot(dy, plus.map((v, i) => (v - minus[i]) / (2 * h)));
    expect(dot(dx, u)).toBeCloseTo(directional, 2);
  });

  it('pool3x3: max and average over the in-bounds cells; gradients to the first maximum / spread evenly', () => {
    const x = Float32Array.of(1, 5, 2, 5, 0, 3); // [1, 2, 3, 1]: rows 1 5 2 / 5 0 3
    const params = Int32Array.of(1, 2, 3, 1);
    const y = new Float32Array(6);
    binding!.pool3x3(0, x, y, params);
    expect([...y]).toEqual([5, 5, 5, 5, 5, 5]);
    binding!.pool3x3(1, x, y, params);
    expect([...y].map((v) => +v.toFixed(5))).toEqual([11 / 4, 16 / 6, 10 / 4, 11 / 4, 16 / 6, 10 / 4].map((v) => +v.toFixed(5)));
    const dy = Float32Array.of(1, 2, 3, 4, 5, 6);
    const dx = new Float32Array(6);
    binding!.pool3x3Grad(0, x, dy, dx, params);
    // Every window holds the 5 at (0, 1), which comes first in row-major order; the 5 at (1, 0) gets nothing.
    expect([...dx]).toEqual([0, 21, 0, 0, 0, 0]);
    binding!.pool3x3Grad(1, x, dy, dx, params);
    expect(dot(dx, x)).toBeCloseTo(dot(dy, (() => { const out = new Float32Array(6); binding!.pool3x3(1, x, out, params); return out; })()), 4);
  });

  it('weightedSum and its gradients', () => {
    const terms = [Float32Array.of(1, 2, 3), Float32Array.of(-1, 0, 4)];
    const weights = Float32Array.of(0.5, 2);
    const out = new Float32Array(3);
    binding!.weightedSum(weights, terms, out);
    expect([...out]).toEqual([-1.5, 1, 9.5]);
    const dy = Float32Array.of(1, -1, 2);
    const [dWeights, dTerms] = [new Float32Array(2), [new Float32Array(3), new Float32Array(3)]];
    binding!.weightedSumGrad(dy, weights, terms, dWeights, dTerms);
    expect([...dWeights]).toEqual([1 - 2 + 6, -1 + 0 + 8]);
    expect(dTerms.map((t) => [...t])).toEqual([[0.5, -0.5, 1], [2, -2, 4]]);
  });

  it('resample: the dense sum over both matrices; transposed, the adjoint', () => {
    // [n, h, w, c] = [2, 3, 4, 5] → [2, 6, 2, 5], with dense (no zero) and sparse matrices.
    const [n, h, w, c, oh, ow] = [2, 3, 4, 5, 6, 2];
    const x = random(n * h * w * c, 7);
    const rows = random(oh * h, 8).map((v, i) => (i % 4 === 1 ? 0 : v));
    const columns = random(ow * w, 9);
    const dense = (input: Float32Array, [ih, iw]: number[], [th, tw]: number[], row: (i: number, y: number) => number, column: (j: number, x: number) => number) => {
      const out = new Float32Array(n * th * tw * c);
      for (let b = 0; b < n; b++)
        for (let i = 0; i < th; i++)
          for (let j = 0; j < tw; j++)
            for (let k = 0; k < c; k++) {
              let sum = 0;
              for (let y = 0; y < ih; y++) for (let xx = 0; xx < iw; xx++) sum += row(i, y) * column(j, xx) * input[((b * ih + y) * iw + xx) * c + k];
              out[((b * th + i) * tw + j) * c + k] = sum;
            }
      return out;
    };
    const out = new Float32Array(n * oh * ow * c);
    binding!.resample(x, rows, columns, out, Int32Array.of(n, h, w, c, oh, ow), false);
    const expected = dense(x, [h, w], [oh, ow], (i, y) => rows[i * h + y], (j, xx) => columns[j * w + xx]);
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    // ⟨resample(x), dy⟩ = ⟨x, resampleᵀ(dy)⟩.
    const dy = random(out.length, 10);
    const dx = new Float32Array(x.length);
    binding!.resample(dy, rows, columns, dx, Int32Array.of(n, oh, ow, c, h, w), true);
    const expectedDx = dense(dy, [oh, ow], [h, w], (y, i) => rows[i * h + y], (xx, j) => columns[j * w + xx]);
    dx.forEach((v, i) => expect(v).toBeCloseTo(expectedDx[i], 5));
    expect(dot(out, dy)).toBeCloseTo(dot(x, dx), 3);
  });

  it('sgdMomentum and adam follow PyTorch\'s formulas with weight decay', () => {
    const [w, state, g] = [Float32Array.of(1, -2), Float32Array.of(0.5, 0), Float32Array.of(0.1, 0.2)];
    const [outW, outV] = [new Float32Array(2), new Float32Array(2)];
    binding!.sgdMomentum(w, state, g, outW, outV, Float64Array.of(0.1, 0.9, 0.01));
    const v = [0.9 * 0.5 + 0.1 + 0.01 * 1, 0.2 + 0.01 * -2];
    [...outV].forEach((x, i) => expect(x).toBeCloseTo(v[i], 6));
    [...outW].forEach((x, i) => expect(x).toBeCloseTo(w[i] - 0.1 * v[i], 6));
    const [outM, outS] = [new Float32Array(2), new Float32Array(2)];
    binding!.adam(w, state, Float32Array.of(0, 0.04), g, outW, outM, outS, Float64Array.of(0.01, 0.9, 0.999, 1e-8, 0.001, 0.1, 0.001));
    [0, 1].forEach((i) => {
      const grad = g[i] + 0.001 * w[i];
      const m = 0.9 * state[i] + 0.1 * grad;
      const s2 = 0.999 * [0, 0.04][i] + 0.001 * grad * grad;
      expect(outM[i]).toBeCloseTo(m, 6);
      expect(outS[i]).toBeCloseTo(s2, 6);
      expect(outW[i]).toBeCloseTo(w[i] - (0.01 * (m / 0.1)) / (Math.sqrt(s2 / 0.001) + 1e-8), 5);
    });
  });

  it('allocate: a zeroed, writable buffer of the exact length; discard gives its whole pages back as zeros', () => {
    const bytes = 3 * 2 ** 21 + 100; // not a multiple of a page
    const buffer = binding!.allocate(bytes);
    expect(buffer.byteLength).toBe(bytes);
    const floats = new Float32Array(buffer);
    expect(floats.some((v) => v !== 0)).toBe(false);
    floats.fill(1.5);
    expect(floats[floats.length - 1]).toBe(1.5);
    const given = binding!.discard(buffer);
    // The mapping starts on a page, so every whole page goes: all but the last 100 bytes.
    expect(given).toBe(bytes - 100);
    expect([...new Set(floats.subarray(0, given / 4))]).toEqual([0]);
    expect(floats[floats.length - 1]).toBe(1.5);
    // Reused after a discard, it is plain memory again.
    floats.fill(2);
    expect(floats[0]).toBe(2);
    expect(() => binding!.allocate(0)).toThrow(/allocate: expected a byte count >= 1/);
    expect(() => binding!.discard(new Float32Array(4) as any)).toThrow(/discard: expected an ArrayBuffer/);
  });

  it('rejects arrays that do not match the shapes, instead of reading past them', () => {
    const params = Int32Array.of(1, 4, 4, 2, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    expect(() => binding!.conv(0, new Float32Array(31), new Float32Array(36), new Float32Array(32), params)).toThrow(/array lengths do not match/);
    expect(() => binding!.conv(0, new Float32Array(32) as any, new Float64Array(36) as any, new Float32Array(32), params)).toThrow(/b must be a Float32Array/);
    expect(() => binding!.strided(0, Int32Array.of(4), new Float32Array(3), 0, Int32Array.of(1), new Float32Array(4), 0, Int32Array.of(1))).toThrow(/do not fit/);
    const f = (n: number) => new Float32Array(n);
    expect(() => binding!.batchNorm(f(6), f(6), f(3), f(2), Int32Array.of(2, 3), 1e-5)).toThrow(/batchNorm: array lengths/);
    expect(() => binding!.batchNormGrad(f(6), f(6), f(3), f(3), f(5), Int32Array.of(2, 3), 1e-5)).toThrow(/batchNormGrad: array lengths/);
    expect(() => binding!.affineBatchNorm(f(6), f(3), f(2), f(6), f(3), f(3), Int32Array.of(2, 3), 1e-5)).toThrow(/affineBatchNorm: array lengths/);
    expect(() => binding!.affineBatchNormGrad(f(6), f(6), f(3), f(3), f(3), f(6), f(3), f(4), Int32Array.of(2, 3), 1e-5)).toThrow(/affineBatchNormGrad: array lengths/);
    expect(() => binding!.pool3x3(0, f(6), f(5), Int32Array.of(1, 2, 3, 1))).toThrow(/pool3x3: unknown mode, or array lengths/);
    expect(() => binding!.pool3x3(2 as 0, f(6), f(6), Int32Array.of(1, 2, 3, 1))).toThrow(/unknown mode/);
    expect(() => binding!.weightedSum(f(2), [f(3), f(4)], f(3))).toThrow(/every array must have the output's length/);
    expect(() => binding!.weightedSum(f(1), [f(3), f(3)], f(3))).toThrow(/one weight/);
    expect(() => binding!.weightedSum(f(1), f(3) as any, f(3))).toThrow(/terms must be an array/);
    expect(() => binding!.resample(f(24), f(6), f(8), f(20), Int32Array.of(1, 2, 3, 4, 3, 2), false)).toThrow(/resample: array lengths/);
    expect(() => binding!.resample(f(24), f(5), f(6), f(24), Int32Array.of(1, 2, 3, 4, 3, 2), true)).toThrow(/resample: array lengths/);
    expect(() => binding!.sgdMomentum(f(2), f(2), f(3), f(2), f(2), Float64Array.of(1, 1, 1))).toThrow(/every array must have the variable's length/);
    expect(() => binding!.sgdMomentum(f(2), f(2), f(2), f(2), f(2), Float64Array.of(1, 1))).toThrow(/Float64Array of 3/);
  });
});

describe.runIf(!binding)('without the addon', () => {
  it('says why it is missing', () => {
    expect(reason).toMatch(/not built|could not load/);
  });
});
