import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { binding } from './binding.js';
import { setThreads, threadCount, threadsFromEnvironment } from './threads.js';

describe('ADL_THREADS', () => {
  it('is read as an integer >= 1, unset or empty leaving OpenMP its default', () => {
    expect(threadsFromEnvironment('1')).toBe(1);
    expect(threadsFromEnvironment('16')).toBe(16);
    expect(threadsFromEnvironment(undefined)).toBeUndefined();
    expect(threadsFromEnvironment('')).toBeUndefined();
    for (const bad of ['0', '-2', '1.5', 'two']) expect(() => threadsFromEnvironment(bad)).toThrow(`ADL_THREADS must be an integer >= 1, got "${bad}"`);
  });
});

describe.runIf(binding)('oneDNN threads', () => {
  it('setThreads changes the count threadCount reports, and a 1-thread convolution equals a multi-thread one', () => {
    const before = threadCount()!;
    const [n, h, w, c, oc] = [1, 9, 9, 16, 16];
    const x = Float32Array.from({ length: n * h * w * c }, (_, i) => Math.sin(i));
    const filter = Float32Array.from({ length: 9 * c * oc }, (_, i) => Math.cos(i));
    const params = Int32Array.of(n, h, w, c, h, w, oc, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    const convolve = () => {
      const y = new Float32Array(n * h * w * oc);
      binding!.conv(0, x, filter, y, params);
      return y;
    };
    setThreads(2);
    const parallel = convolve();
    expect(setThreads(1)).toBe(1);
    expect(threadCount()).toBe(1);
    const single = convolve();
    single.forEach((v, i) => expect(v).toBeCloseTo(parallel[i], 4));
    setThreads(before);
    expect(() => setThreads(0)).toThrow('threads must be an integer >= 1, got 0');
  });

  it("the addon's own kernels (batch norm, weighted sums, optimizer updates, ReLU gradient, cross-entropy) give the same bits on 1 and 2 threads", () => {
    const before = threadCount()!;
    const [rows, channels] = [2100, 40]; // 84,000 elements: enough for the loops to take a second thread
    // Magnitudes over 2^±30, so that sums in double round and a different grouping would show.
    const data = (seed: number, length = rows * channels) => Float32Array.from({ length }, (_, i) => Math.sin(seed * 1000 + i) * 2 ** ((i % 61) - 30));
    const [x, dy, scale, offset] = [data(1), data(2), data(3, channels), data(4, channels)];
    const shape = Int32Array.of(rows, channels);
    const compute = () => {
      const out: Float32Array[] = [];
      const fresh = (length = rows * channels) => {
        const array = new Float32Array(length);
        out.push(array);
        return array;
      };
      const [y, mean, variance] = [fresh(), fresh(channels), fresh(channels)];
      binding!.affineBatchNorm(x, scale, offset, y, mean, variance, shape, 1e-5);
      binding!.affineBatchNormGrad(dy, x, mean, variance, scale, fresh(), fresh(channels), fresh(channels), shape, 1e-5);
      binding!.batchNorm(x, fresh(), fresh(channels), fresh(channels), shape, 1e-5);
      binding!.batchNormGrad(dy, x, mean, variance, fresh(), shape, 1e-5);
      const terms = [x, dy, y];
      const weights = Float32Array.of(0.2, -0.7, 1.3);
      binding!.weightedSum(weights, terms, fresh());
      binding!.weightedSumGrad(dy, weights, terms, fresh(3), terms.map(() => fresh()));
      binding!.sgdMomentum(x, dy, y, fresh(), fresh(), Float64Array.of(0.05, 0.9, 4e-5));
      binding!.adam(x, dy, y, data(5), fresh(), fresh(), fresh(), Float64Array.of(3e-3, 0.9, 0.999, 1e-8, 1e-3, 0.1, 0.001));
      const contiguous = Int32Array.of(1);
      binding!.strided(8, Int32Array.of(rows * channels), fresh(), 0, contiguous, dy, 0, contiguous, x, 0, contiguous);
      // As [pixels, classes] logits: 4,200 pixels of 20 classes, some ignored and some out of range.
      const labels = Int32Array.from({ length: rows * 2 }, (_, i) => (i % 7 === 0 ? 255 : i % 20));
      const ceShape = Int32Array.of(rows * 2, channels / 2);
      binding!.crossEntropy(x, labels, fresh(1), ceShape, 255);
      binding!.crossEntropyGrad(x, labels, fresh(), ceShape, 255, 0.5);
      return out;
    };
    setThreads(1);
    const single = compute();
    setThreads(2);
    const parallel = compute();
    setThreads(before);
    parallel.forEach((array, i) => expect(Buffer.from(array.buffer).equals(Buffer.from(single[i].buffer)), `output ${i}`).toBe(true));
  });

  it('importing the package applies ADL_THREADS', () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const script = "import('@adl/onednn').then((m) => console.log(m.threadCount()))";
    expect(execFileSync(process.execPath, ['-e', script], { cwd, encoding: 'utf8', env: { ...process.env, ADL_THREADS: '1' } }).trim()).toBe('1');
  });
});
