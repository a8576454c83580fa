import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CROSS_ENTROPY_KERNELS, RELU_GRAD_KERNEL, RESAMPLE_KERNEL } from './fused-kernels.js';
import { tensorsPerDispatch } from './gpu-dispatch.js';
import { kernelsFor } from './kernel-sets.js';
import { sgdMomentumUpdate, sgdMomentumUpdates } from './optimizer-updates.js';
import { seededTensor, useBackend } from './testing/backends.js';
import { webGpuForTests } from './testing/webgpu.js';
import { FILTER_GRADIENT_ROWS } from './webgpu-conv-gradients.js';
import { SCALED_SUM_KERNEL } from './webgpu-kernels.js';
import { probeWebGpu } from './webgpu-probe.js';

// The WGSL kernels that replace tfjs's (filter gradients) or add to them (fused kernels), against
// tfjs's own kernels on the cpu backend.
const webgpu = await webGpuForTests();

/** `compute`'s values on `backend`. */
async function valuesOn(backend: string, compute: () => tf.Tensor): Promise<Float32Array> {
  await useBackend(backend);
  const out = tf.tidy(compute);
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

function largestDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i])), 0);
}

/** Largest |difference| relative to the largest |value| of the cpu result (at least 1). */
async function againstCpu(compute: () => tf.Tensor): Promise<number> {
  const expected = await valuesOn('cpu', compute);
  const actual = await valuesOn('webgpu', compute);
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
  return largestDifference(actual, expected) / scale;
}

const bits = (values: Float32Array) => Buffer.from(values.buffer).toString('base64');

describe.runIf(webgpu.device)('WGSL kernels on webgpu', () => {
  beforeEach(() => useBackend('webgpu'));
  afterAll(() => useBackend('cpu'));

  // [x shape, filter size, in → out channels, stride, padding]: 1×1 at strides 1 and 2, 3×3 and 5×5,
  // and sizes whose pixels need several chunks (over 256 per chunk).
  const denseCases: [number[], number, number, number, number | 'valid' | 'same'][] = [
    [[2, 9, 8, 3], 1, 4, 1, 0],
    [[2, 9, 8, 3], 1, 4, 2, 0],
    [[1, 11, 10, 2], 3, 5, 2, 1],
    [[2, 8, 7, 3], 5, 2, 1, 'valid'],
    [[2, 70, 70, 3], 3, 8, 1, 1],
    [[2, 66, 67, 4], 1, 3, 1, 0],
    [[1, 20, 20, 64], 3, 32, 1, 1],
  ];
  for (const [shape, k, out, stride, pad] of denseCases) {
    it(`conv2d filter gradient, x ${shape}, ${k}×${k} → ${out}, stride ${stride}, padding ${pad}: equal to cpu, the same bits every run`, async () => {
      const filterShape = [k, k, shape[3], out] as [number, number, number, number];
      const dFilter = () => tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(seededTensor(shape, 1) as tf.Tensor4D, f as tf.Tensor4D, stride, pad), 0.5)))(seededTensor(filterShape, 2));
      expect(await againstCpu(dFilter)).toBeLessThan(1e-5);
      expect(bits(await valuesOn('webgpu', dFilter))).toBe(bits(await valuesOn('webgpu', dFilter)));
    });
  }

  // [x shape, filter size, multiplier, stride, dilation, padding]: the kernel directly, as tfjs-core
  // refuses the gradient of a dilated depthwise convolution.
  const depthwiseCases: [number[], number, number, number, number, number | 'valid' | 'same'][] = [
    [[2, 9, 8, 3], 3, 1, 1, 1, 'same'],
    [[2, 9, 8, 3], 3, 2, 2, 1, 1],
    [[1, 12, 11, 4], 5, 1, 1, 2, 'same'],
    [[2, 60, 61, 2], 3, 1, 1, 1, 'same'],
  ];
  for (const [shape, k, multiplier, stride, dilation, pad] of depthwiseCases) {
    it(`depthwise filter gradient, x ${shape}, ${k}×${k}×${multiplier}, stride ${stride}, dilation ${dilation}: equal to cpu`, async () => {
      const filterShape = [k, k, shape[3], multiplier];
      const info = tf.backend_util.computeConv2DInfo(shape as [number, number, number, number], filterShape as [number, number, number, number], stride, dilation, pad, undefined, true);
      const dyShape = [shape[0], info.outHeight, info.outWidth, shape[3] * multiplier];
      const x = await valuesOn('cpu', () => seededTensor(shape, 3));
      const dy = await valuesOn('cpu', () => seededTensor(dyShape, 4));
      // Σ over output pixels of x at each tap times dy, by direct loops (tfjs's cpu kernel pads for the dilation but reads undilated taps).
      const [, height, width, channels] = shape;
      const expected = new Float64Array(k * k * channels * multiplier);
      for (let b = 0; b < shape[0]; b++) for (let i = 0; i < info.outHeight; i++) for (let j = 0; j < info.outWidth; j++) {
        for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) for (let c = 0; c < channels; c++) for (let m = 0; m < multiplier; m++) {
          const [row, col] = [i * stride - info.padInfo.top + p * dilation, j * stride - info.padInfo.left + q * dilation];
          if (row < 0 || row >= height || col < 0 || col >= width) continue;
          const o = c * multiplier + m;
          expected[((p * k + q) * channels + c) * multiplier + m] += x[((b * height + row) * width + col) * channels + c] * dy[((b * info.outHeight + i) * info.outWidth + j) * dyShape[3] + o];
        }
      }
      const actual = await valuesOn('webgpu', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor(x, shape), dy: tf.tensor(dy, dyShape) },
        { strides: stride, dilations: dilation, pad, filterShape }) as tf.Tensor);
      expect(largestDifference(actual, Float32Array.from(expected)) / expected.reduce((m, v) => Math.max(m, Math.abs(v)), 1)).toBeLessThan(1e-5);
    });
  }

  it(`a filter gradient at the paper's crop loops at most ${FILTER_GRADIENT_ROWS} times per thread and fills thousands of threads (dispatches recorded, not run)`, () => {
    // A 1×1 20→20 convolution at 193², batch 2 (tfjs: 400 threads looping 74,498 times), and a depthwise 3×3 over 20 channels.
    const x = tf.zeros([2, 193, 193, 20]) as tf.Tensor4D;
    const probe = probeWebGpu({ dryRun: true });
    try {
      tf.dispose(tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 0)))(tf.zeros([1, 1, 20, 20])));
      tf.dispose(tf.grad((f: tf.Tensor) => tf.sum(tf.depthwiseConv2d(x, f as tf.Tensor4D, 1, 'same')))(tf.zeros([3, 3, 20, 1])));
    } finally {
      probe.stop();
    }
    const programs = probe.programs().filter((p) => /FilterGrad/.test(p.program));
    expect(programs.map((p) => p.program).sort()).toEqual(['adlConvFilterGradChunks', 'adlConvFilterGradSum', 'adlDepthwiseFilterGradChunks', 'adlDepthwiseFilterGradSum']);
    for (const p of programs) expect(p.longestLoop).toBeLessThanOrEqual(FILTER_GRADIENT_ROWS);
    const chunks = programs.filter((p) => p.program.endsWith('Chunks'));
    for (const p of chunks) expect(p.maxWorkgroups * 64).toBeGreaterThanOrEqual(5000);
    x.dispose();
  });

  it.each([
    [600, ['adlBnStatistics', 'adlAffineBnNormalise', 'adlBnGradSums', 'adlAffineBnGrad']],
    [400, ['adlAffineBnSmall', 'adlAffineBnGradSmall']],
  ] as const)('a batch norm over %i² rows (two dispatches each way over 349,440 rows, else one) equals the cpu form, with scale and offset and without', async (side, programs) => {
    const kernels = kernelsFor('webgpu');
    // 360,000 rows are over the one-dispatch limit (349,440), 160,000 under it; channels with different means and spreads.
    const x = () => tf.add(tf.mul(seededTensor([1, side, side, 3], 20), [1, 3, 0.5]), [10, -2, 0]) as tf.Tensor4D;
    const r = () => seededTensor([1, side, side, 3], 21);
    const [scale, offset] = [() => tf.tensor1d([1.5, -0.5, 2]), () => tf.tensor1d([0.25, 1, -3])];
    const composed = (input: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => {
      const { mean, variance } = tf.moments(input, [0, 1, 2]);
      return tf.add(tf.mul(tf.div(tf.sub(input, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
    };
    const valuesAndGradients = (norm: (input: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor) => () => {
      const { value, grads } = tf.valueAndGrads((input: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.sum(tf.mul(norm(input as tf.Tensor4D, gamma as tf.Tensor1D, beta as tf.Tensor1D), r())))([x(), scale(), offset()]);
      return tf.concat([tf.reshape(norm(x(), scale(), offset()), [-1]), tf.reshape(value, [1]), ...grads.map((g) => tf.reshape(g, [-1]))]);
    };
    const expected = await valuesOn('cpu', valuesAndGradients(composed));
    await useBackend('webgpu');
    const probe = probeWebGpu();
    const affine = await valuesOn('webgpu', valuesAndGradients((input, gamma, beta) => kernels.affineBatchNorm!(input, gamma, beta, 1e-5).output));
    probe.stop();
    expect(probe.programs().map((p) => p.program)).toEqual(expect.arrayContaining([...programs]));
    const scaleOf = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
    expect(largestDifference(affine, expected) / scaleOf).toBeLessThan(1e-4);
    const plain = await valuesOn('cpu', () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.div(tf.sub(input, tf.moments(input, [0, 1, 2]).mean), tf.sqrt(tf.add(tf.moments(input, [0, 1, 2]).variance, 1e-5))), r())))(x()));
    const ours = await valuesOn('webgpu', () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(kernels.batchStatistics(input as tf.Tensor4D, 1e-5).normalised, r())))(x()));
    expect(largestDifference(ours, plain) / plain.reduce((m, v) => Math.max(m, Math.abs(v)), 1)).toBeLessThan(1e-4);
    // Given the running statistics, the same kernels move them.
    const movedOn = (backend: string) => valuesOn(backend, () => {
      const running = { mean: tf.tensor1d([1, 2, 3]), variance: tf.tensor1d([4, 5, 6]), momentum: 0.1, unbiased: (side * side) / (side * side - 1) };
      const batch = backend === 'webgpu' ? kernels.batchStatistics(x(), 1e-5, running) : { ...tf.moments(x(), [0, 1, 2]), running: undefined };
      if (backend === 'webgpu' && !batch.running) throw new Error('the webgpu set did not move the running statistics');
      const moved = batch.running ?? { mean: tf.add(tf.mul(running.mean, 0.9), tf.mul(batch.mean, 0.1)), variance: tf.add(tf.mul(running.variance, 0.9), tf.mul(batch.variance, 0.1 * running.unbiased)) };
      return tf.concat([moved.mean, moved.variance]);
    });
    const expectedMoved = await movedOn('cpu');
    expect(largestDifference(await movedOn('webgpu'), expectedMoved) / expectedMoved.reduce((m, v) => Math.max(m, Math.abs(v)), 1)).toBeLessThan(1e-5);
  });

  it.each([3, 1])('separable resample over %i channels, plain and transposed, equals the two matrix products; its gradient reaches x only', async (channels) => {
    const x = () => seededTensor([2, 5, 7, channels], 5) as tf.Tensor4D;
    const rows = () => seededTensor([4, 5], 6);
    const columns = () => seededTensor([9, 7], 7);
    const byProducts = (input: tf.Tensor4D, r: tf.Tensor, c: tf.Tensor) => tf.einsum('jx,nixc->nijc', c, tf.einsum('iy,nyxc->nixc', r, input));
    const resample = (input: tf.Tensor, r: tf.Tensor, c: tf.Tensor, transposed = false) => tf.engine().runKernel(RESAMPLE_KERNEL, { x: input, rows: r, columns: c }, { transposed }) as tf.Tensor;
    const expected = await valuesOn('cpu', () => byProducts(x(), rows(), columns()));
    expect(largestDifference(await valuesOn('webgpu', () => resample(x(), rows(), columns())), expected)).toBeLessThan(1e-5);
    // Transposed: x has the output's size; the matrices act transposed.
    const y = () => seededTensor([2, 4, 9, channels], 8) as tf.Tensor4D;
    const transposed = await valuesOn('cpu', () => tf.einsum('jx,nyjc->nyxc', columns(), tf.einsum('iy,nijc->nyjc', rows(), y())));
    expect(largestDifference(await valuesOn('webgpu', () => resample(y(), rows(), columns(), true)), transposed)).toBeLessThan(1e-5);
    // d/dx of Σ resample(x)·y is the transposed resample of y.
    const gradient = await valuesOn('webgpu', () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(resample(input, rows(), columns()), y())))(x()));
    expect(largestDifference(gradient, transposed)).toBeLessThan(1e-5);
  });

  it('resample with bilinear (sparse) matrices, one pass over their nonzeros, and with matrices computed on the GPU (two dense passes), equals the matrix products', async () => {
    // Rows 4 → 7 and columns 5 → 3, corners aligned: each output line reads at most two input lines.
    const bilinear = (out: number, size: number) => {
      const m = new Float32Array(out * size);
      for (let i = 0; i < out; i++) {
        const at = (i * (size - 1)) / (out - 1);
        const low = Math.min(Math.floor(at), size - 1);
        const high = Math.min(low + 1, size - 1);
        m[i * size + low] += 1 - (at - low);
        m[i * size + high] += at - low;
      }
      return m;
    };
    const [rows, columns] = [bilinear(7, 4), bilinear(3, 5)];
    const x = () => seededTensor([2, 4, 5, 3], 31) as tf.Tensor4D;
    const y = () => seededTensor([2, 7, 3, 3], 32) as tf.Tensor4D;
    const resample = (input: tf.Tensor, r: tf.Tensor, c: tf.Tensor, transposed: boolean) => tf.engine().runKernel(RESAMPLE_KERNEL, { x: input, rows: r, columns: c }, { transposed }) as tf.Tensor;
    const matrices = (onGpu: boolean) => [tf.tensor2d(rows, [7, 4]), tf.tensor2d(columns, [3, 5])].map((m) => (onGpu ? tf.add(m, 0) : m));
    const plain = await valuesOn('cpu', () => tf.einsum('jx,nixc->nijc', tf.tensor2d(columns, [3, 5]), tf.einsum('iy,nyxc->nixc', tf.tensor2d(rows, [7, 4]), x())));
    const transposed = await valuesOn('cpu', () => tf.einsum('jx,nyjc->nyxc', tf.tensor2d(columns, [3, 5]), tf.einsum('iy,nijc->nyjc', tf.tensor2d(rows, [7, 4]), y())));
    for (const onGpu of [false, true]) {
      expect(largestDifference(await valuesOn('webgpu', () => resample(x(), ...(matrices(onGpu) as [tf.Tensor, tf.Tensor]), false)), plain)).toBeLessThan(1e-5);
      expect(largestDifference(await valuesOn('webgpu', () => resample(y(), ...(matrices(onGpu) as [tf.Tensor, tf.Tensor]), true)), transposed)).toBeLessThan(1e-5);
    }
    await useBackend('webgpu');
    const probe = probeWebGpu({ dryRun: true });
    tf.tidy(() => resample(x(), tf.tensor2d(rows, [7, 4]), tf.tensor2d(columns, [3, 5]), false));
    probe.stop();
    // One pass, each output element reading at most 2 input rows × 1 column (5 → 3 columns, corners aligned, lands on pixels).
    expect(probe.programs().filter((p) => p.program === 'adlResample').map((p) => [p.dispatches, p.longestLoop])).toEqual([[1, 2]]);
  });

  it('the resample matrices are uploaded once per content, not at every call', async () => {
    const rows = new Float32Array([1, 0, 0.5, 0.5, 0, 1]);
    const x = tf.ones([1, 2, 2, 1]);
    const call = () => tf.tidy(() => tf.engine().runKernel(RESAMPLE_KERNEL, { x, rows: tf.tensor2d(rows, [3, 2]), columns: tf.tensor2d(rows, [3, 2]) }, { transposed: false }) as tf.Tensor);
    tf.dispose(call());
    const probe = probeWebGpu({ dryRun: true });
    tf.dispose([call(), call()]);
    probe.stop();
    expect(probe.counts().uploads).toBe(0);
    x.dispose();
  });

  it('cross-entropy and its gradient equal the float64 formula, with ignored and out-of-range labels, the same bits every run', async () => {
    const [pixels, classes] = [2 * 3 * 7, 6];
    const logitValues = await valuesOn('cpu', () => seededTensor([2, 3, 7, classes], 9, 4));
    const labelValues = Int32Array.from({ length: pixels }, (_, p) => (p % 9 === 0 ? 255 : p % 11 === 0 ? 9 : p % classes));
    const logits = () => tf.tensor4d(logitValues, [2, 3, 7, classes]);
    const labels = () => tf.tensor3d(labelValues, [2, 3, 7], 'int32');
    const counted = labelValues.filter((l) => l !== 255).length;
    let loss = 0;
    const gradient = new Float64Array(pixels * classes);
    for (let p = 0; p < pixels; p++) {
      const row = Array.from(logitValues.subarray(p * classes, (p + 1) * classes));
      const largest = Math.max(...row);
      const sum = row.reduce((s, v) => s + Math.exp(v - largest), 0);
      if (labelValues[p] === 255) continue;
      row.forEach((v, k) => (gradient[p * classes + k] = Math.exp(v - largest) / sum / counted));
      if (labelValues[p] < classes) {
        loss -= row[labelValues[p]] - largest - Math.log(sum);
        gradient[p * classes + labelValues[p]] -= 1 / counted;
      }
    }
    const forward = () => tf.engine().runKernel(CROSS_ENTROPY_KERNELS.forward, { logits: logits(), labels: labels() }, { ignoreIndex: 255 }) as tf.Tensor;
    const [value] = await valuesOn('webgpu', forward);
    expect(value).toBeCloseTo(loss / counted, 5);
    const backward = () => tf.grad((l: tf.Tensor) => tf.engine().runKernel(CROSS_ENTROPY_KERNELS.forward, { logits: l, labels: labels() }, { ignoreIndex: 255 }) as tf.Tensor)(logits());
    const dLogits = await valuesOn('webgpu', backward);
    expect(largestDifference(dLogits, Float32Array.from(gradient))).toBeLessThan(1e-6);
    expect(bits(await valuesOn('webgpu', forward))).toBe(bits(await valuesOn('webgpu', forward)));
    // Every pixel ignored: loss 0, gradient 0.
    const ignored = () => tf.engine().runKernel(CROSS_ENTROPY_KERNELS.forward, { logits: logits(), labels: tf.fill([2, 3, 7], 255, 'int32') }, { ignoreIndex: 255 }) as tf.Tensor;
    expect(Array.from(await valuesOn('webgpu', ignored))).toEqual([0]);
  });

  it.each([[3, [2, 5, 1]], [1, [3, 4]], [0, 2]] as const)('SplitV along axis %i into %j is one dispatch, equal to cpu bit for bit', async (axis, splits) => {
    const split = () => tf.concat(tf.split(seededTensor([2, 7, 5, 8], 30), splits as number | number[], axis).map((t) => tf.reshape(t, [-1])));
    const expected = await valuesOn('cpu', split);
    await useBackend('webgpu');
    const x = seededTensor([2, 7, 5, 8], 30);
    const probe = probeWebGpu();
    const pieces = tf.split(x, splits as number | number[], axis);
    probe.stop();
    expect(probe.counts().dispatches).toBe(1);
    tf.dispose([x, ...pieces]);
    expect(bits(await valuesOn('webgpu', split))).toBe(bits(expected));
  });

  it('the ReLU gradient is dy · step(y) bit for bit, NaN where y is NaN', async () => {
    const y = () => tf.tensor1d([-2, 0, 3, NaN, 1e-30, -0, 5]);
    const dy = () => tf.tensor1d([1, 2, 3, 4, Infinity, 6, NaN]);
    const expected = await valuesOn('cpu', () => tf.mul(dy(), tf.step(y())));
    const actual = await valuesOn('webgpu', () => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: dy(), y: y() }, {}) as tf.Tensor);
    expect(Array.from(actual)).toEqual(Array.from(expected));
  });

  it('a weighted sum with numeric weights is one dispatch without uploads, with gradients w_i · dy', async () => {
    const kernels = kernelsFor('webgpu');
    const terms = [tf.ones([2, 3]), tf.fill([2, 3], 2)];
    kernels.weightedSum(terms, [0.25, 0.5]).dispose();
    const probe = probeWebGpu();
    const sum = kernels.weightedSum(terms, [0.25, 0.5]);
    probe.stop();
    expect(probe.counts()).toMatchObject({ dispatches: 1, uploads: 0 });
    expect(Array.from(await sum.data())).toEqual([1.25, 1.25, 1.25, 1.25, 1.25, 1.25]);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.engine().runKernel(SCALED_SUM_KERNEL, [a, b] as unknown as tf.NamedTensorMap, { weights: [0.25, 0.5] }) as tf.Tensor)(terms, tf.fill([2, 3], 4));
    expect(await Promise.all(grads.map(async (g) => Array.from(await g.data())))).toEqual([[1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2]]);
    tf.dispose([...terms, sum, ...grads]);
  });

  // [shared (C channels) or per edge (E·C) for each term]: the search's pattern (7 terms), and 15 terms
  // (more than one dispatch binds: the broadcasting ops instead).
  for (const pattern of ['ssswwww', 'swswswswswswsws']) {
    it(`edge-weighted sums (${pattern.length} terms, ${pattern}) and every gradient equal the broadcasting ops on cpu; one dispatch forward, two backward where they fit`, async () => {
      const [edges, channels] = [3, 5];
      const inputs = () => ({
        terms: [...pattern].map((kind, k) => seededTensor([2, 4, 3, kind === 's' ? channels : edges * channels], 10 + k) as tf.Tensor4D),
        weights: seededTensor([edges, pattern.length], 3) as tf.Tensor2D,
        dy: seededTensor([2, 4, 3, edges * channels], 4) as tf.Tensor4D,
      });
      const all = () => {
        const { terms, weights, dy } = inputs();
        const f = (...xs: tf.Tensor[]) => kernelsFor(tf.getBackend()).edgeWeightedSum(xs.slice(1) as tf.Tensor4D[], xs[0] as tf.Tensor2D);
        const { value, grads } = tf.valueAndGrads(f)([weights, ...terms], dy);
        return tf.concat([value, ...grads].map((t) => tf.reshape(t, [-1])));
      };
      expect(await againstCpu(all)).toBeLessThan(1e-5);
      await useBackend('webgpu');
      const { terms, weights, dy } = inputs();
      const f = (...xs: tf.Tensor[]) => kernelsFor('webgpu').edgeWeightedSum(xs.slice(1) as tf.Tensor4D[], xs[0] as tf.Tensor2D);
      const forward = probeWebGpu();
      const out = f(weights, ...terms);
      forward.stop();
      const backward = probeWebGpu();
      const grads = tf.grads(f)([weights, ...terms], dy);
      backward.stop();
      const fits = pattern.length + 2 <= tensorsPerDispatch(1);
      expect(fits).toBe(pattern.length === 7);
      // tf.grads runs the forward again: 1 + 2.
      if (fits) expect([forward.counts().dispatches, backward.counts().dispatches]).toEqual([1, 3]);
      else expect(forward.counts().dispatches).toBeGreaterThan(pattern.length);
      tf.dispose([out, ...grads, ...terms, weights, dy]);
    });
  }

  it('SGD of 11 variables, several per dispatch, equals one variable at a time bit for bit', async () => {
    const shapes = [[3], [2, 2], [1, 1, 3, 2], [5], [7, 3], [1], [4, 4], [2], [3, 3, 2, 1], [9], [6]];
    const make = () => shapes.map((shape, k) => [tf.variable(tf.add(tf.reshape(tf.range(0, shape.reduce((a, b) => a * b, 1)), shape), k)), tf.variable(tf.zeros(shape))] as const);
    const [together, apart] = [make(), make()];
    const hyper = { learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 };
    const probe = probeWebGpu();
    for (const step of [1, 2]) {
      tf.tidy(() => sgdMomentumUpdates(together.map(([w]) => w), together.map(([, v]) => v), shapes.map((s, i) => tf.fill(s, step * 0.5 + i)), hyper));
    }
    probe.stop();
    const sgdDispatches = probe.programs().find((p) => p.program === 'adlSgdMomentum')!.dispatches;
    expect(sgdDispatches).toBeLessThan(shapes.length);
    for (const step of [1, 2]) tf.tidy(() => shapes.forEach((s, i) => sgdMomentumUpdate(apart[i][0], apart[i][1], tf.fill(s, step * 0.5 + i), hyper)));
    for (const [i, [w, v]] of together.entries()) {
      expect(bits((await w.data()) as Float32Array)).toBe(bits((await apart[i][0].data()) as Float32Array));
      expect(bits((await v.data()) as Float32Array)).toBe(bits((await apart[i][1].data()) as Float32Array));
    }
    tf.dispose([...together.flat(), ...apart.flat()]);
  });

  it('SGD leaves a tensor that shares a variable\'s data unchanged (the update is then not in place)', async () => {
    const [w, v] = [tf.variable(tf.tensor1d([1, 2, 3])), tf.variable(tf.zeros([3]))];
    const before = w.clone();
    tf.tidy(() => sgdMomentumUpdates([w], [v], [tf.ones([3])], { learningRate: 0.5, momentum: 0.9, weightDecay: 0 }));
    expect(Array.from(await before.data())).toEqual([1, 2, 3]);
    expect(Array.from(await w.data())).toEqual([0.5, 1.5, 2.5]);
    tf.dispose([w, v, before]);
  });

  it('repeated training steps through the new kernels keep tensors and GPU bytes flat', async () => {
    const kernels = kernelsFor('webgpu');
    const w = tf.variable(seededTensor([3, 3, 4, 6], 11));
    const [scale, offset] = [tf.variable(tf.ones([6])), tf.variable(tf.zeros([6]))];
    const velocity = [tf.variable(tf.zerosLike(w)), tf.variable(tf.zeros([6])), tf.variable(tf.zeros([6]))];
    const x = seededTensor([2, 17, 19, 4], 12) as tf.Tensor4D;
    const labels = tf.tensor3d(Int32Array.from({ length: 2 * 17 * 19 }, (_, i) => (i % 7 === 0 ? 255 : i % 6)), [2, 17, 19], 'int32');
    const step = async () => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const y = kernels.affineBatchNorm!(kernels.conv2d(x, w as tf.Variable<tf.Rank.R4>, { stride: 1, dilation: 1, padding: 1 }), scale as tf.Variable<tf.Rank.R1>, offset as tf.Variable<tf.Rank.R1>, 1e-5).output;
          return tf.engine().runKernel(CROSS_ENTROPY_KERNELS.forward, { logits: tf.relu(y), labels }, { ignoreIndex: 255 }) as tf.Scalar;
        }, [w, scale, offset]);
        sgdMomentumUpdates([w, scale, offset], velocity, [grads[w.name], grads[scale.name], grads[offset.name]], { learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4 });
        return value;
      });
      await loss.data();
      loss.dispose();
    };
    await step();
    const [tensors, bytes] = [tf.memory().numTensors, (tf.memory() as { numBytesInGPU?: number }).numBytesInGPU];
    for (let i = 0; i < 3; i++) await step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect((tf.memory() as { numBytesInGPU?: number }).numBytesInGPU).toBe(bytes);
    tf.dispose([w, scale, offset, ...velocity, x, labels]);
  });
});
