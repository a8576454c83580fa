import * as tf from '@tensorflow/tfjs';
import { useFastestTestBackend } from '@adl/backend/test';
import { describe, expect, it } from 'vitest';
import { Adam, SgdMomentum } from './optimizers.js';

await useFastestTestBackend();

describe('optimizer scalars', () => {
  it("Adam's step count is its one scalar: restored, the next step equals an uninterrupted one", () => {
    const run = (steps: number, from?: Adam) => {
      const w = tf.variable(tf.tensor1d([1, -2, 3]));
      const adam = new Adam([w], 0.9, 0.999, 1e-3);
      if (from) {
        adam.stateVariables().forEach((v, i) => v.assign(from.stateVariables()[i]));
        adam.restoreScalars(from.stateScalars());
      }
      for (let i = 0; i < steps; i++) tf.tidy(() => adam.apply([w.mul(2)], 0.1));
      return { w, adam };
    };
    const straight = run(3);
    expect(straight.adam.stateScalars()).toEqual({ step: 3 });
    const first = run(2);
    const resumed = run(0, first.adam);
    resumed.w.assign(first.w);
    tf.tidy(() => resumed.adam.apply([resumed.w.mul(2)], 0.1));
    expect(resumed.adam.stateScalars()).toEqual({ step: 3 });
    expect(Array.from(resumed.w.dataSync())).toEqual(Array.from(straight.w.dataSync()));
    for (const { w, adam } of [straight, first, resumed]) (adam.dispose(), w.dispose());
  });

  it('SGD with momentum keeps no scalars: its velocity is all its state', () => {
    const w = tf.variable(tf.tensor1d([1]));
    const sgd = new SgdMomentum([w], 0.9, 0);
    expect(sgd.stateScalars()).toEqual({});
    expect(sgd.stateVariables()).toHaveLength(1);
    sgd.dispose();
    w.dispose();
  });
});
