import * as tf from '@tensorflow/tfjs';
import type { Kernels } from '../kernels.js';
import { normaliseWithElementwiseOps } from '../batch-statistics.js';
import { seededTensor, useBackend } from './backends.js';
import { checkGradients } from './gradient-check.js';

/** One check of a kernel set: throws on failure. */
export interface KernelCase {
  readonly name: string;
  readonly run: () => void | Promise<void>;
}

async function valuesOn(backend: string, compute: () => tf.Tensor): Promise<Float32Array> {
  await useBackend(backend);
  const out = compute();
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

function expectClose(actual: Float32Array, expected: Float32Array, what: string, tolerance = 1e-4): void {
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  if (!(worst < tolerance)) throw new Error(`${what}: largest difference ${worst}, allowed ${tolerance}`);
}

// kernel, stride, dilation, padding, height, width
const CONV_CASES = [
  [3, 1, 1, 1, 7, 6],
  [3, 2, 1, 1, 9, 8],
  [3, 2, 1, 1, 8, 7],
  [3, 1, 2, 2, 7, 9],
  [5, 1, 2, 4, 9, 9],
  [3, 1, 6, 6, 11, 10],
  [1, 2, 1, 0, 7, 8],
] as const;

/**
 * What every kernel set must do on `backend` (the layers rely on nothing else): values equal to
 * tfjs's own forward ops on the cpu backend (which accept dilation), and gradients equal to finite
 * differences. A backend package runs these cases on its own set, as @adl/backend runs them on its.
 */
export function kernelConformanceCases(kernels: Kernels, backend: string): KernelCase[] {
  const cases: KernelCase[] = [];
  const add = (name: string, run: KernelCase['run']) => cases.push({ name, run });

  for (const [k, s, d, p, h, w] of CONV_CASES) {
    add(`conv2d k${k} stride ${s} dilation ${d} pad ${p} at ${h}×${w} equals tf.conv2d`, async () => {
      const x = () => seededTensor([2, h, w, 3], 1) as tf.Tensor4D;
      const f = () => seededTensor([k, k, 3, 4], 2) as tf.Tensor4D;
      const expected = await valuesOn('cpu', () => tf.tidy(() => tf.conv2d(x(), f(), s, p, 'NHWC', d)));
      const actual = await valuesOn(backend, () => tf.tidy(() => kernels.conv2d(x(), f(), { stride: s, dilation: d, padding: p })));
      expectClose(actual, expected, 'conv2d');
    });
  }

  for (const [k, d] of [
    [3, 1],
    [5, 1],
    [3, 2],
    [5, 2],
  ] as const) {
    add(`depthwise k${k} dilation ${d} equals tf.depthwiseConv2d`, async () => {
      const x = () => seededTensor([2, 9, 8, 3], 3) as tf.Tensor4D;
      const f = () => seededTensor([k, k, 3, 1], 4) as tf.Tensor4D;
      const pad = (d * (k - 1)) / 2;
      const expected = await valuesOn('cpu', () => tf.tidy(() => tf.depthwiseConv2d(x(), f(), 1, pad, 'NHWC', d)));
      const actual = await valuesOn(backend, () => tf.tidy(() => kernels.depthwiseConv2d(x(), f(), d)));
      expectClose(actual, expected, 'depthwise');
    });
  }

  add('pointwise equals a 1×1 tf.conv2d', async () => {
    const x = () => seededTensor([2, 5, 4, 6], 5) as tf.Tensor4D;
    const f = () => seededTensor([1, 1, 6, 3], 6) as tf.Tensor4D;
    const expected = await valuesOn('cpu', () => tf.tidy(() => tf.conv2d(x(), f(), 1, 0)));
    expectClose(await valuesOn(backend, () => tf.tidy(() => kernels.pointwiseConv(x(), f()))), expected, 'pointwise');
  });

  add('max pool equals tf.maxPool on all-negative input (padding never wins)', async () => {
    const x = () => tf.sub(seededTensor([2, 6, 5, 3], 7), 2) as tf.Tensor4D;
    const expected = await valuesOn('cpu', () => tf.tidy(() => tf.maxPool(x(), 3, 1, 'same')));
    expectClose(await valuesOn(backend, () => tf.tidy(() => kernels.maxPool3x3(x()))), expected, 'max pool');
  });

  add('avg pool divides by the in-bounds count (padding not counted)', async () => {
    const ones = await valuesOn(backend, () => tf.tidy(() => kernels.avgPool3x3(tf.ones([1, 4, 5, 2]) as tf.Tensor4D)));
    expectClose(ones, new Float32Array(40).fill(1), 'avg pool of ones', 1e-6);
    const x = () => seededTensor([2, 6, 5, 3], 8) as tf.Tensor4D;
    const values = await valuesOn(backend, () => tf.tidy(() => kernels.avgPool3x3(x())));
    const input = await valuesOn('cpu', () => x());
    await useBackend(backend);
    // The corner: the mean of the 2×2 block inside the image.
    const at = (y: number, xx: number, c: number) => input[(y * 5 + xx) * 3 + c];
    const corner = (at(0, 0, 0) + at(0, 1, 0) + at(1, 0, 0) + at(1, 1, 0)) / 4;
    expectClose(values.slice(0, 1), Float32Array.of(corner), 'avg pool corner', 1e-5);
  });

  add('conv2d gradients (stride 2, dilation 2, unpadded, 1×1 stride 2) match finite differences', async () => {
    for (const [kernel, geometry] of [
      [3, { stride: 2, dilation: 1, padding: 1 }],
      [3, { stride: 1, dilation: 2, padding: 2 }],
      [3, { stride: 2, dilation: 1, padding: 0 }],
      [1, { stride: 2, dilation: 1, padding: 0 }],
    ] as const) {
      const x = tf.variable(seededTensor([2, 7, 6, 3], 9)) as tf.Variable<tf.Rank.R4>;
      const f = tf.variable(seededTensor([kernel, kernel, 3, 2], 10)) as tf.Variable<tf.Rank.R4>;
      const r = seededTensor([2, 7, 6, 2], 11);
      await checkGradients(() => {
        const y = kernels.conv2d(x, f, geometry);
        return tf.sum(tf.mul(y, tf.slice(r, [0, 0, 0, 0], y.shape)));
      }, [x, f]);
      tf.dispose([x, f, r]);
    }
  });

  for (const d of [1, 2]) {
    add(`depthwise gradients at dilation ${d} match finite differences`, async () => {
      const x = tf.variable(seededTensor([2, 6, 7, 3], 12)) as tf.Variable<tf.Rank.R4>;
      const f = tf.variable(seededTensor([5, 5, 3, 1], 13)) as tf.Variable<tf.Rank.R4>;
      const r = seededTensor([2, 6, 7, 3], 14);
      await checkGradients(() => tf.sum(tf.mul(kernels.depthwiseConv2d(x, f, d), r)), [x, f]);
      tf.dispose([x, f, r]);
    });
  }

  add('max pool gradient goes to one maximum per window, also where it is negative', async () => {
    const x = tf.variable(tf.tidy(() => tf.sub(seededTensor([1, 5, 5, 2], 15), 3))) as tf.Variable<tf.Rank.R4>;
    const r = seededTensor([1, 5, 5, 2], 16);
    await checkGradients(() => tf.sum(tf.mul(kernels.maxPool3x3(x), r)), [x]);
    tf.dispose([x, r]);
  });

  add('avg pool gradient matches finite differences', async () => {
    const x = tf.variable(seededTensor([1, 5, 4, 2], 17)) as tf.Variable<tf.Rank.R4>;
    const r = seededTensor([1, 5, 4, 2], 18);
    await checkGradients(() => tf.sum(tf.mul(kernels.avgPool3x3(x), r)), [x]);
    tf.dispose([x, r]);
  });

  add('batch statistics: per-channel mean, biased variance and normalised values of tf.moments', async () => {
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
        if (normalised.shape.join() !== '2,5,4,3') throw new Error(`batch statistics: normalised shape [${normalised.shape}]`);
        return tf.concat([tf.reshape(normalised, [-1]), mean, variance]);
      }),
    );
    expectClose(actual, expected, 'batch statistics');
  });

  add('weighted sum of three terms with tensor and with numeric weights', async () => {
    const terms = () => [1, 2, 3].map((seed) => seededTensor([2, 3, 4, 5], 30 + seed));
    const expected = await valuesOn('cpu', () =>
      tf.tidy(() => {
        const [a, b, c] = terms();
        return tf.addN([tf.mul(a, 0.5), tf.mul(b, -2), tf.mul(c, 0.25)]);
      }),
    );
    expectClose(await valuesOn(backend, () => tf.tidy(() => kernels.weightedSum(terms(), tf.tensor1d([0.5, -2, 0.25])))), expected, 'weighted sum, tensor weights');
    expectClose(await valuesOn(backend, () => tf.tidy(() => kernels.weightedSum(terms(), [0.5, -2, 0.25]))), expected, 'weighted sum, numeric weights');
  });

  add('weighted sum gradients (weights and terms) match finite differences', async () => {
    const terms = [1, 2].map((seed) => tf.variable(seededTensor([2, 3, 4, 5], 40 + seed)));
    const weights = tf.variable(tf.tensor1d([0.7, -0.3]));
    const r = seededTensor([2, 3, 4, 5], 43);
    await checkGradients(() => tf.sum(tf.mul(kernels.weightedSum(terms, weights as tf.Tensor1D), r)), [...terms, weights]);
    tf.dispose([...terms, weights, r]);
  });

  add('batch statistics gradient (through the mean and variance too) matches finite differences', async () => {
    const x = tf.variable(tf.tidy(() => tf.add(seededTensor([2, 3, 4, 3], 20), [1, -1, 2]))) as tf.Variable<tf.Rank.R4>;
    const r = seededTensor([2, 3, 4, 3], 21);
    await checkGradients(() => tf.sum(tf.mul(kernels.batchStatistics(x, 1e-5).normalised, r)), [x]);
    tf.dispose([x, r]);
  });

  add('batch statistics given the running ones: the same values, and the running ones moved (where the set moves them)', async () => {
    const x = () => tf.tidy(() => tf.add(tf.mul(seededTensor([2, 5, 4, 3], 60), [1, 3, 0.5]), [10, -2, 0])) as tf.Tensor4D;
    const running = () => ({ mean: tf.tensor1d([1, 2, 3]), variance: tf.tensor1d([4, 5, 6]), momentum: 0.25, unbiased: 40 / 39 });
    const plain = await valuesOn(backend, () => tf.tidy(() => {
      const { normalised, mean, variance } = kernels.batchStatistics(x(), 1e-3);
      const r = running();
      return tf.concat([tf.reshape(normalised, [-1]), mean, variance, tf.add(tf.mul(r.mean, 0.75), tf.mul(mean, 0.25)), tf.add(tf.mul(r.variance, 0.75), tf.mul(variance, 0.25 * r.unbiased))]);
    }));
    const given = await valuesOn(backend, () => tf.tidy(() => {
      const { normalised, mean, variance, running: moved } = kernels.batchStatistics(x(), 1e-3, running());
      return tf.concat([tf.reshape(normalised, [-1]), mean, variance, ...(moved ? [moved.mean, moved.variance] : [])]);
    }));
    expectClose(given.length === plain.length ? given : Float32Array.from([...given, ...plain.slice(given.length)]), plain, 'batch statistics given the running ones', 1e-5);
  });

  const { affineBatchNorm } = kernels;
  if (affineBatchNorm) {
    // Channels with different offsets and scales; a scale and offset per channel.
    const x = () => tf.tidy(() => tf.add(tf.mul(seededTensor([2, 5, 4, 3], 50), [1, 3, 0.5]), [10, -2, 0])) as tf.Tensor4D;
    const scale = () => tf.tensor1d([1.5, -0.5, 2]);
    const offset = () => tf.tensor1d([0.25, 1, -3]);
    const epsilon = 1e-3;
    /** The two-step form every other set uses: normalise, then scale and shift. */
    const composed = (input: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => {
      const { normalised, mean, variance } = normaliseWithElementwiseOps(input, epsilon);
      return { output: tf.add(tf.mul(normalised, gamma), beta) as tf.Tensor4D, mean, variance };
    };
    const flat = ({ output, mean, variance }: { output: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor }) => tf.concat([tf.reshape(output, [-1]), mean, variance]);

    add('affine batch norm: the values of normalising, then scaling and shifting', async () => {
      const expected = await valuesOn('cpu', () => tf.tidy(() => flat(composed(x(), scale(), offset()))));
      expectClose(await valuesOn(backend, () => tf.tidy(() => flat(affineBatchNorm(x(), scale(), offset(), epsilon)))), expected, 'affine batch norm');
    });

    add('affine batch norm gradients (input, scale, offset) equal the two-step form and finite differences', async () => {
      const r = () => seededTensor([2, 5, 4, 3], 51);
      const gradients = (norm: typeof composed) => () =>
        tf.tidy(() => {
          const grads = tf.grads((input, gamma, beta) => tf.sum(tf.mul(norm(input as tf.Tensor4D, gamma as tf.Tensor1D, beta as tf.Tensor1D).output, r())));
          return tf.concat(grads([x(), scale(), offset()]).map((g) => tf.reshape(g, [-1])));
        });
      const expected = await valuesOn('cpu', gradients(composed));
      expectClose(await valuesOn(backend, gradients((input, gamma, beta) => affineBatchNorm(input, gamma, beta, epsilon))), expected, 'affine batch norm gradients');
      const variables = [tf.variable(x()), tf.variable(scale()), tf.variable(offset())];
      const weights = r();
      await checkGradients(() => tf.sum(tf.mul(affineBatchNorm(variables[0] as tf.Variable<tf.Rank.R4>, variables[1] as tf.Variable<tf.Rank.R1>, variables[2] as tf.Variable<tf.Rank.R1>, 1e-5).output, weights)), variables);
      tf.dispose([...variables, weights]);
    });
  }

  return cases;
}
