import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { portableKernels, releaseShapeOnlySaves, Rng } from '@adl/backend';
import { freeDuringBackward } from './free-during-backward.js';
import type { ForwardContext } from './layer.js';
import { SepConv } from './sep-conv.js';
import { reluSavingOutput } from './simple-layers.js';

const ctx: ForwardContext = { training: true, kernels: portableKernels };

/** A chain of ops deep enough that tfjs's keeping every gradient until the end shows in the peak. */
function chain(rng: Rng) {
  const ops = Array.from({ length: 4 }, () => new SepConv({ channels: 8, kernel: 3, affine: true, rng }));
  const x = tf.tensor4d(rng.normalArray(2 * 16 * 16 * 8), [2, 16, 16, 8]);
  const loss = () => tf.sum(tf.square(ops.reduce((h, op) => op.apply(h, ctx), x as tf.Tensor4D))) as tf.Scalar;
  const variables = ops.flatMap((op) => op.trainableVariables());
  const dispose = () => {
    x.dispose();
    ops.forEach((op) => op.dispose());
  };
  return { x, loss, variables, dispose };
}

async function gradientsAndPeak(f: () => tf.Scalar, xs: tf.Tensor[]) {
  const before = tf.memory().numBytes;
  let result: { value: tf.Tensor; grads: tf.Tensor[] } | undefined;
  const { peakBytes } = await tf.profile(() => {
    result = tf.engine().gradients(f, xs);
  });
  const { value, grads } = result!;
  const values = grads.map((g) => Buffer.from(g.dataSync().buffer));
  tf.dispose([value, ...grads]);
  return { values, peak: peakBytes - before };
}

describe('freeDuringBackward', () => {
  it('gives the same gradients bit for bit, at a lower peak, and leaks nothing', async () => {
    const { x, loss, variables, dispose } = chain(new Rng(7));
    const xs = [x, ...variables];
    await gradientsAndPeak(loss, xs); // kernel caches of constants are made on the first call
    const tensors = tf.memory().numTensors;
    const kept = await gradientsAndPeak(loss, xs);
    const freed = await gradientsAndPeak(() => freeDuringBackward(loss()), xs);
    expect(tf.memory().numTensors).toBe(tensors);
    freed.values.forEach((value, i) => expect(value.equals(kept.values[i])).toBe(true));
    expect(freed.peak).toBeLessThan(0.8 * kept.peak);
    dispose();
  });

  it("does not free the caller's gradient of y (a nested backward pass reads it afterwards)", () => {
    const a = tf.tensor1d([1, -2, 3]);
    const dy = tf.tensor1d([1, 1, 1]);
    const { grads } = tf.engine().gradients(() => freeDuringBackward(tf.mul(tf.exp(a), 2)), [a], dy);
    expect(dy.isDisposed).toBe(false);
    expect(Array.from(grads[0].dataSync())).toEqual(Array.from(tf.tidy(() => tf.mul(tf.exp(a), 2)).dataSync()));
    tf.dispose([a, dy, grads[0]]);
  });
});

describe('releaseShapeOnlySaves', () => {
  it('releases what Add, Sub, AddN, Reshape, Slice and Concat save, and their gradients stay right', () => {
    releaseShapeOnlySaves();
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tf.tensor1d([0.5, -1, 2]);
    const f = () => {
      const h = tf.concat([tf.add(a, b), tf.sub(a, b)], 1);
      const s = tf.addN([tf.slice(h, [0, 1], [2, 4]), tf.reshape(tf.reshape(tf.slice(h, [0, 0], [2, 4]), [8]), [2, 4])]);
      const tape = (tf.engine() as unknown as { state: { activeTape: { kernelName: string; saved?: tf.Tensor[] }[] } }).state.activeTape;
      const shapeOnly = tape.filter((node) => ['Add', 'Sub', 'AddN', 'Reshape', 'Slice', 'Concat'].includes(node.kernelName));
      expect(new Set(shapeOnly.map((node) => node.kernelName)).size).toBe(6);
      for (const node of shapeOnly) expect(node.saved!.every((t) => t.isDisposed)).toBe(true);
      return tf.sum(tf.mul(s, tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [2, 4])));
    };
    const { grads } = tf.engine().gradients(f, [a, b]);
    // h = [a + b | a − b]; s sums columns 1–4 and 0–3 of h, weighted 1…8 per row.
    const w = [[1, 2, 3, 4], [5, 6, 7, 8]];
    const dh = w.map((row) => [0, 1, 2, 3, 4, 5].map((j) => (j >= 1 && j <= 4 ? row[j - 1] : 0) + (j <= 3 ? row[j] : 0)));
    expect(grads[0].arraySync()).toEqual(dh.map((row) => [0, 1, 2].map((j) => row[j] + row[j + 3])));
    expect(grads[1].arraySync()).toEqual([0, 1, 2].map((j) => dh[0][j] + dh[1][j] - dh[0][j + 3] - dh[1][j + 3]));
    tf.dispose([a, b, ...grads]);
  });
});

describe('reluSavingOutput', () => {
  it("has tf.relu's value and gradient bit for bit, zeros and negatives included", () => {
    const x = tf.tensor1d([-2, -0, 0, 1e-30, 0.5, 3, -1e-30]);
    const weights = tf.tensor1d([1, 2, 3, 4, 5, 6, 7]);
    const grad = (relu: (t: tf.Tensor) => tf.Tensor) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(relu(t), weights)))(x);
    const [ours, theirs] = [grad((t) => reluSavingOutput(t as tf.Tensor4D)), grad((t) => tf.relu(t))];
    expect(Array.from(ours.dataSync())).toEqual(Array.from(theirs.dataSync()));
    expect(Array.from(tf.tidy(() => reluSavingOutput(x as unknown as tf.Tensor4D)).dataSync())).toEqual(Array.from(tf.tidy(() => tf.relu(x)).dataSync()));
    tf.dispose([x, weights, ours, theirs]);
  });
});
