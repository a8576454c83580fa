import * as tf from '@tensorflow/tfjs';
import { PRIMITIVES, type ForwardContext } from '@adl/ops';
import { kernelsFor, Rng } from '@adl/backend';
import { checkGradients, seededTensor } from '@adl/backend/test';
import { describe, expect, it } from 'vitest';
import { channelShuffle, MixedOp } from './mixed-op.js';
import { SearchCell } from './search-cell.js';

const ctx = (): ForwardContext => ({ training: true, kernels: kernelsFor(tf.getBackend()) });
const softmaxRow = (seed: number) => tf.softmax(seededTensor([PRIMITIVES.length], seed)) as tf.Tensor1D;

describe('partial-channel mixed op (PC-DARTS, beyond the paper)', () => {
  it('shuffles channel g·(C/K) + i to i·K + g', () => {
    const x = tf.tensor4d(Array.from({ length: 6 }, (_, c) => c), [1, 1, 1, 6]);
    expect(Array.from(channelShuffle(x, 2).dataSync())).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(channelShuffle(x, 3).dataSync())).toEqual([0, 2, 4, 1, 3, 5]);
    x.dispose();
  });

  it('runs the ops on the first C/K channels, passes the rest by, then shuffles', () => {
    const [C, K] = [8, 4];
    const partial = new MixedOp(C, new Rng(1), { partialChannels: K });
    const whole = new MixedOp(C / K, new Rng(1));
    const x = seededTensor([2, 5, 5, C], 2) as tf.Tensor4D;
    const weights = softmaxRow(3);
    tf.tidy(() => {
      const expected = channelShuffle(tf.concat([whole.apply(tf.slice(x, [0, 0, 0, 0], [2, 5, 5, C / K]), weights, ctx()), tf.slice(x, [0, 0, 0, C / K], [2, 5, 5, C - C / K])], 3), K);
      expect(Array.from(partial.apply(x, weights, ctx()).dataSync())).toEqual(Array.from(expected.dataSync()));
    });
    // The ops have C/K channels: the same weights as the whole op on C/K channels, and about 1/K² of its parameters.
    expect(partial.cost([5, 5])).toEqual(whole.cost([5, 5]));
    tf.dispose([x, weights]);
    partial.dispose();
    whole.dispose();
  });

  it('has gradients that match finite differences (input, weights, α row), with and without recomputation', async () => {
    for (const recompute of [false, true]) {
      const op = new MixedOp(4, new Rng(5), { partialChannels: 2, recompute });
      const x = tf.variable(seededTensor([2, 6, 5, 4], 6)) as tf.Variable<tf.Rank.R4>;
      const alpha = tf.variable(seededTensor([PRIMITIVES.length], 7)) as tf.Variable<tf.Rank.R1>;
      const r = seededTensor([2, 6, 5, 4], 8);
      await checkGradients(() => tf.sum(tf.mul(op.apply(x, tf.softmax(alpha) as tf.Tensor1D, ctx()), r)) as tf.Scalar, [x, alpha, ...op.trainableVariables()], { epsilon: 3e-3 });
      tf.dispose([x, alpha, r]);
      op.dispose();
    }
  });

  it('keeps the search cell shapes and α layout; refuses a K that does not divide the channels', () => {
    const cell = new SearchCell({ prevPrevChannels: 6, prevChannels: 7, channels: 8, rng: new Rng(3), partialChannels: 2 });
    tf.tidy(() => {
      const rows = tf.unstack(tf.softmax(seededTensor([20, 8], 4))) as tf.Tensor1D[];
      expect(cell.apply(seededTensor([2, 5, 5, 6], 5) as tf.Tensor4D, seededTensor([2, 5, 5, 7], 6) as tf.Tensor4D, rows, ctx()).shape).toEqual([2, 5, 5, 40]);
    });
    cell.dispose();
    expect(() => new MixedOp(8, new Rng(1), { partialChannels: 3 })).toThrow(/dividing the channels \(8\), got 3/);
  });
});
