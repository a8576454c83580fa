import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BatchNorm } from './batch-norm.js';
import { portableKernels, Rng } from '@adl/backend';

const train = { training: true, kernels: portableKernels };
const evaluate = { training: false, kernels: portableKernels };

describe('BatchNorm', () => {
  // Channel 0 holds 1, 2, 3, 4; channel 1 holds 10, 10, 10, 14.
  const input = () => tf.tensor4d([1, 10, 2, 10, 3, 10, 4, 14], [2, 1, 2, 2]);

  it('normalises with batch statistics in training and updates running statistics (momentum 0.1, unbiased)', () => {
    const bn = new BatchNorm(2, { affine: false });
    const out = tf.tidy(() => bn.apply(input(), train).arraySync());
    const channel0 = out.flat(2).map((pixel) => pixel[0]);
    const sd = Math.sqrt(1.25 + 1e-5);
    expect(channel0.map((v) => +v.toFixed(5))).toEqual([-1.5, -0.5, 0.5, 1.5].map((v) => +(v / sd).toFixed(5)));
    const mean = bn.runningMean.arraySync();
    const variance = bn.runningVariance.arraySync();
    expect(mean[0]).toBeCloseTo(0.1 * 2.5, 6);
    expect(mean[1]).toBeCloseTo(0.1 * 11, 6);
    // Unbiased variances: 5/3 and 12/3.
    expect(variance[0]).toBeCloseTo(0.9 + 0.1 * (5 / 3), 5);
    expect(variance[1]).toBeCloseTo(0.9 + 0.1 * 4, 5);
    bn.dispose();
  });

  it('keeps finite running statistics for a batch of one pixel (no unbiased correction to divide by zero)', () => {
    const bn = new BatchNorm(1, { affine: false });
    tf.tidy(() => bn.apply(tf.tensor4d([3], [1, 1, 1, 1]), train));
    expect(bn.runningMean.arraySync()[0]).toBeCloseTo(0.3, 6);
    expect(bn.runningVariance.arraySync()[0]).toBeCloseTo(0.9, 6);
    bn.dispose();
  });

  it('uses running statistics in evaluation and leaves them unchanged', () => {
    const bn = new BatchNorm(2, { affine: true });
    bn.runningMean.assign(tf.tensor1d([1, 2]));
    bn.runningVariance.assign(tf.tensor1d([4, 1]));
    bn.gamma!.assign(tf.tensor1d([2, 1]));
    bn.beta!.assign(tf.tensor1d([0.5, 0]));
    const out = tf.tidy(() => bn.apply(input(), evaluate).arraySync());
    expect(out[0][0][0][0]).toBeCloseTo(((1 - 1) / Math.sqrt(4 + 1e-5)) * 2 + 0.5, 5);
    expect(out[1][0][1][1]).toBeCloseTo((14 - 2) / Math.sqrt(1 + 1e-5), 4);
    expect(bn.runningMean.arraySync()).toEqual([1, 2]);
    bn.dispose();
  });

  it('has 2C parameters when affine and none otherwise; running statistics are not trainable', () => {
    const affine = new BatchNorm(5, { affine: true });
    const plain = new BatchNorm(5, { affine: false });
    expect(affine.cost().params).toBe(10);
    expect(plain.cost().params).toBe(0);
    expect(plain.trainableVariables()).toEqual([]);
    expect(affine.stateVariables().every((v) => !v.trainable)).toBe(true);
    affine.dispose();
    plain.dispose();
  });

  it('updates the running statistics off the gradient tape: no recorded kernel reads them', () => {
    // Without affine (with it, the portable kernels recompute the BN, whose forward pass records nothing).
    const bn = new BatchNorm(2, { affine: false });
    const x = input();
    let recorded: { inputs: Record<string, tf.Tensor> }[] = [];
    const { value, grads } = tf.engine().gradients(() => {
      const y = bn.apply(x, train);
      recorded = [...(tf.engine() as unknown as { state: { activeTape: typeof recorded } }).state.activeTape];
      return tf.sum(y) as tf.Scalar;
    }, [x]);
    const running = new Set([bn.runningMean.id, bn.runningVariance.id]);
    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded.filter((node) => Object.values(node.inputs).some((t) => running.has(t.id)))).toEqual([]);
    expect(bn.runningMean.arraySync().map((m) => +m.toFixed(6))).toEqual([0.25, 1.1]);
    tf.dispose([x, value, ...grads]);
    bn.dispose();
  });

  it('affine in training: the gradients of the plain formula bit for bit, running statistics updated once', () => {
    const rng = new Rng(4);
    const bn = new BatchNorm(3, { affine: true });
    bn.gamma!.assign(tf.tensor1d([0.5, 2, -1]));
    bn.beta!.assign(tf.tensor1d([0.1, 0, -0.3]));
    const x = tf.tensor4d(rng.normalArray(2 * 4 * 5 * 3), [2, 4, 5, 3]);
    const weights = tf.tensor4d(rng.normalArray(2 * 4 * 5 * 3), [2, 4, 5, 3]);
    const xs = [x, bn.gamma!, bn.beta!];
    const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, weights)) as tf.Scalar;
    const plain = tf.engine().gradients(() => loss(tf.add(tf.mul(portableKernels.batchStatistics(x, bn.epsilon).normalised, bn.gamma!), bn.beta!)), xs);
    const ours = tf.engine().gradients(() => loss(bn.apply(x, train)), xs);
    expect(Buffer.from(ours.value.dataSync().buffer).equals(Buffer.from(plain.value.dataSync().buffer))).toBe(true);
    ours.grads.forEach((g, i) => expect(Buffer.from(g.dataSync().buffer).equals(Buffer.from(plain.grads[i].dataSync().buffer))).toBe(true));
    const mean = tf.tidy(() => tf.mean(x, [0, 1, 2]).arraySync() as number[]);
    bn.runningMean.arraySync().forEach((m, c) => expect(m).toBeCloseTo(0.1 * mean[c], 6));
    tf.dispose([x, weights, plain.value, ours.value, ...plain.grads, ...ours.grads]);
    bn.dispose();
  });
});
