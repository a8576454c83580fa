import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portableKernels } from './portable-kernels.js';
import { stockKernels } from './stock-kernels.js';
import { nativeKernels } from './native-kernels.js';
import { onednnKernels } from './onednn-kernels.js';
import { seededTensor, TEST_BACKENDS, useBackend } from './testing/backends.js';
import { checkGradients } from './testing/gradient-check.js';
import type { Kernels } from './kernels.js';

async function valuesOn(backend: string, compute: () => tf.Tensor): Promise<Float32Array> {
  await useBackend(backend);
  const out = compute();
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

function expectClose(actual: Float32Array, expected: Float32Array, tolerance = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThan(tolerance);
}

// The reference: tfjs's own forward ops on the cpu backend, which accept dilation in the forward pass.
const convCases = [
  // kernel, stride, dilation, padding, height, width
  [3, 1, 1, 1, 7, 6],
  [3, 2, 1, 1, 9, 8],
  [3, 2, 1, 1, 8, 7],
  [3, 1, 2, 2, 7, 9],
  [5, 1, 2, 4, 9, 9],
  [3, 1, 6, 6, 11, 10],
  [1, 2, 1, 0, 7, 8],
] as const;

describe.each(TEST_BACKENDS)('kernels on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('cpu'));

  const kernelSets: Kernels[] = {
    cpu: [portableKernels, stockKernels, nativeKernels],
    wasm: [portableKernels, nativeKernels],
    onednn: [portableKernels, stockKernels, onednnKernels],
  }[backend]!;

  describe.each(kernelSets.map((k) => [k.name, k] as const))('%s', (_name, kernels) => {
    it.each(convCases)('conv2d k%i stride %i dilation %i pad %i at %i×%i equals tf.conv2d', async (k, s, d, p, h, w) => {
      const x = () => seededTensor([2, h, w, 3], 1) as tf.Tensor4D;
      const f = () => seededTensor([k, k, 3, 4], 2) as tf.Tensor4D;
      const expected = await valuesOn('cpu', () => tf.tidy(() => tf.conv2d(x(), f(), s, p, 'NHWC', d)));
      const actual = await valuesOn(backend, () => tf.tidy(() => kernels.conv2d(x(), f(), { stride: s, dilation: d, padding: p })));
      expectClose(actual, expected);
    });

    it.each([
      [3, 1],
      [5, 1],
      [3, 2],
      [5, 2],
    ])('depthwise k%i dilation %i equals tf.depthwiseConv2d', async (k, d) => {
      const x = () => seededTensor([2, 9, 8, 3], 3) as tf.Tensor4D;
      const f = () => seededTensor([k, k, 3, 1], 4) as tf.Tensor4D;
      const pad = (d * (k - 1)) / 2;
      const expected = await valuesOn('cpu', () => tf.tidy(() => tf.depthwiseConv2d(x(), f(), 1, pad, 'NHWC', d)));
      const actual = await valuesOn(backend, () => tf.tidy(() => kernels.depthwiseConv2d(x(), f(), d)));
      expectClose(actual, expected);
    });

    it('pointwise equals a 1×1 tf.conv2d', async () => {
      const x = () => seededTensor([2, 5, 4, 6], 5) as tf.Tensor4D;
      const f = () => seededTensor([1, 1, 6, 3], 6) as tf.Tensor4D;
      const expected = await valuesOn('cpu', () => tf.tidy(() => tf.conv2d(x(), f(), 1, 0)));
      expectClose(await valuesOn(backend, () => tf.tidy(() => kernels.pointwiseConv(x(), f()))), expected);
    });

    it('max pool equals tf.maxPool on all-negative input (padding never wins)', async () => {
      const x = () => tf.sub(seededTensor([2, 6, 5, 3], 7), 2) as tf.Tensor4D;
      const expected = await valuesOn('cpu', () => tf.tidy(() => tf.maxPool(x(), 3, 1, 'same')));
      expectClose(await valuesOn(backend, () => tf.tidy(() => kernels.maxPool3x3(x()))), expected);
    });

    it('avg pool divides by the in-bounds count (padding not counted)', async () => {
      const ones = await valuesOn(backend, () => tf.tidy(() => kernels.avgPool3x3(tf.ones([1, 4, 5, 2]) as tf.Tensor4D)));
      expectClose(ones, new Float32Array(40).fill(1), 1e-6);
      const x = () => seededTensor([2, 6, 5, 3], 8) as tf.Tensor4D;
      // Hand-computed corner: mean of the 2×2 in-bounds block.
      const values = await valuesOn(backend, () => tf.tidy(() => kernels.avgPool3x3(x())));
      const input = await valuesOn('cpu', () => x());
      await useBackend(backend);
      const at = (y: number, xx: number, c: number) => input[(y * 5 + xx) * 3 + c];
      expect(values[0]).toBeCloseTo((at(0, 0, 0) + at(0, 1, 0) + at(1, 0, 0) + at(1, 1, 0)) / 4, 5);
    });

    it('conv2d gradients (stride 2, dilation 2, unpadded, 1×1 stride 2) match finite differences', () => {
      for (const [kernel, geometry] of [
        [3, { stride: 2, dilation: 1, padding: 1 }],
        [3, { stride: 1, dilation: 2, padding: 2 }],
        [3, { stride: 2, dilation: 1, padding: 0 }],
        [1, { stride: 2, dilation: 1, padding: 0 }],
      ] as const) {
        const x = tf.variable(seededTensor([2, 7, 6, 3], 9)) as tf.Variable<tf.Rank.R4>;
        const f = tf.variable(seededTensor([kernel, kernel, 3, 2], 10)) as tf.Variable<tf.Rank.R4>;
        const r = seededTensor([2, 7, 6, 2], 11);
        checkGradients(() => {
          const y = kernels.conv2d(x, f, geometry);
          return tf.sum(tf.mul(y, tf.slice(r, [0, 0, 0, 0], y.shape)));
        }, [x, f]);
        tf.dispose([x, f, r]);
      }
    });

    it.each([1, 2])('depthwise gradients at dilation %i match finite differences', (d) => {
      const x = tf.variable(seededTensor([2, 6, 7, 3], 12)) as tf.Variable<tf.Rank.R4>;
      const f = tf.variable(seededTensor([5, 5, 3, 1], 13)) as tf.Variable<tf.Rank.R4>;
      const r = seededTensor([2, 6, 7, 3], 14);
      checkGradients(() => tf.sum(tf.mul(kernels.depthwiseConv2d(x, f, d), r)), [x, f]);
      tf.dispose([x, f, r]);
    });

    it('max pool gradient goes to one maximum per window, also where it is negative', () => {
      const x = tf.variable(tf.tidy(() => tf.sub(seededTensor([1, 5, 5, 2], 15), 3))) as tf.Variable<tf.Rank.R4>;
      const r = seededTensor([1, 5, 5, 2], 16);
      checkGradients(() => tf.sum(tf.mul(kernels.maxPool3x3(x), r)), [x]);
      tf.dispose([x, r]);
    });

    it('avg pool gradient matches finite differences', () => {
      const x = tf.variable(seededTensor([1, 5, 4, 2], 17)) as tf.Variable<tf.Rank.R4>;
      const r = seededTensor([1, 5, 4, 2], 18);
      checkGradients(() => tf.sum(tf.mul(kernels.avgPool3x3(x), r)), [x]);
      tf.dispose([x, r]);
    });

    it('batch statistics: per-channel mean, biased variance and normalised values of tf.moments', async () => {
      // Channels with different offsets and scales, so a wrong axis or a missing centring shows.
      const x = () => tf.tidy(() => tf.add(tf.mul(seededTensor([2, 5, 4, 3], 19), [1, 3, 0.5]), [10, -2, 0])) as tf.Tensor4D;
      const epsilon = 1e-3;
      const expected = await valuesOn('cpu', () =>
        tf.tidy(() => {
          const { mean, variance } = tf.moments(x(), [0, 1, 2]);
          return tf.concat([tf.reshape(tf.div(tf.sub(x(), mean), tf.sqrt(tf.add(variance, epsilon))), [-1]), mean, variance]);
        }),
      );
      const actual = await valuesOn(backend, () =>
        tf.tidy(() => {
          const { normalised, mean, variance } = kernels.batchStatistics(x(), epsilon);
          expect(normalised.shape).toEqual([2, 5, 4, 3]);
          return tf.concat([tf.reshape(normalised, [-1]), mean, variance]);
        }),
      );
      expectClose(actual, expected);
    });

    it('weighted sum of three terms with tensor and with numeric weights', async () => {
      const terms = () => [1, 2, 3].map((seed) => seededTensor([2, 3, 4, 5], 30 + seed));
      const expected = await valuesOn('cpu', () => tf.tidy(() => { const [a, b, c] = terms(); return tf.addN([tf.mul(a, 0.5), tf.mul(b, -2), tf.mul(c, 0.25)]); }));
      expectClose(await valuesOn(backend, () => tf.tidy(() => kernels.weightedSum(terms(), tf.tensor1d([0.5, -2, 0.25])))), expected);
      expectClose(await valuesOn(backend, () => tf.tidy(() => kernels.weightedSum(terms(), [0.5, -2, 0.25]))), expected);
    });

    it('weighted sum gradients (weights and terms) match finite differences', () => {
      const terms = [1, 2].map((seed) => tf.variable(seededTensor([2, 3, 4, 5], 40 + seed)));
      const weights = tf.variable(tf.tensor1d([0.7, -0.3]));
      const r = seededTensor([2, 3, 4, 5], 43);
      checkGradients(() => tf.sum(tf.mul(kernels.weightedSum(terms, weights as tf.Tensor1D), r)), [...terms, weights]);
      tf.dispose([...terms, weights, r]);
    });

    it('batch statistics gradient (through the mean and variance too) matches finite differences', () => {
      const x = tf.variable(tf.tidy(() => tf.add(seededTensor([2, 3, 4, 3], 20), [1, -1, 2]))) as tf.Variable<tf.Rank.R4>;
      const r = seededTensor([2, 3, 4, 3], 21);
      checkGradients(() => tf.sum(tf.mul(kernels.batchStatistics(x, 1e-5).normalised, r)), [x]);
      tf.dispose([x, r]);
    });
  });
});

describe('subsample2', () => {
  it('keeps rows and columns 0, 2, 4, … and equals a stride-2 conv after a stride-1 one', async () => {
    const { subsample2 } = await import('./subsample.js');
    tf.tidy(() => {
      const x = tf.reshape(tf.range(0, 15), [1, 3, 5, 1]) as tf.Tensor4D;
      expect(Array.from(subsample2(x).dataSync())).toEqual([0, 2, 4, 10, 12, 14]);
      const input = seededTensor([2, 9, 8, 3], 40) as tf.Tensor4D;
      const filter = seededTensor([3, 3, 3, 1], 41) as tf.Tensor4D;
      const strided = tf.depthwiseConv2d(input, filter, 2, 1);
      const viaSubsample = subsample2(tf.depthwiseConv2d(input, filter, 1, 1));
      expect(tf.max(tf.abs(tf.sub(strided, viaSubsample))).dataSync()[0]).toBeLessThan(1e-5);
    });
  });
});
