import * as tf from '@tensorflow/tfjs';
import { kernelsFor, Rng } from '@adl/backend';
import type { ForwardContext } from '@adl/ops';
import { describe, expect, it } from 'vitest';
import { dropPath, dropPathRng, scheduledKeepProb } from './drop-path.js';
import { FixedCell } from './fixed-cell.js';
import { AUTO_DEEPLAB_GENOTYPE } from './paper-genotype.js';

describe('scheduledKeepProb (DeepLab NAS nas_cell.py: 1 − progress · (cell + 1) / cells · (1 − keepProb))', () => {
  // keepProb 0.7, 12 cells, 1.5M iterations: the corners of the schedule.
  const total = 1_500_000;
  it.each([
    ['first cell, first step', 0, 0, 1],
    ['first cell, last step', 0, (total - 1) / total, 1 - ((total - 1) / total) * (1 / 12) * 0.3],
    ['last cell, first step', 11, 0, 1],
    ['last cell, last step', 11, (total - 1) / total, 1 - ((total - 1) / total) * 0.3],
    ['first cell, end of training', 0, 1, 0.975],
    ['middle cell (6 of 12), half-way', 5, 0.5, 1 - 0.5 * 0.5 * 0.3],
    ['last cell, end of training', 11, 1, 0.7],
    ['past the end (capped)', 11, 1.5, 0.7],
  ])('%s', (_name, cell, progress, expected) => {
    expect(scheduledKeepProb(0.7, cell, 12, progress)).toBeCloseTo(expected, 12);
  });

  it('is 1 everywhere when keepProb is 1', () => {
    for (const cell of [0, 5, 11]) for (const progress of [0, 0.3, 1]) expect(scheduledKeepProb(1, cell, 12, progress)).toBe(1);
  });
});

describe('dropPath', () => {
  it('keeps each sample whole or drops it whole, scaling kept ones by 1 / keep', () => {
    const x = tf.ones([64, 2, 2, 3]) as tf.Tensor4D;
    const y = dropPath(x, 0.75, new Rng(3)).arraySync() as number[][][][];
    const perSample = y.map((sample) => [...new Set(sample.flat(2))]);
    for (const values of perSample) {
      expect(values).toHaveLength(1);
      expect([0, 1 / 0.75]).toContainEqual(expect.closeTo(values[0], 6));
    }
    const kept = perSample.filter(([v]) => v > 0).length;
    expect(kept).toBeGreaterThan(38); // 48 expected of 64
    expect(kept).toBeLessThan(58);
  });

  it('is the identity at keep 1 (no tensor made)', () => {
    const x = tf.ones([2, 1, 1, 1]) as tf.Tensor4D;
    expect(dropPath(x, 1, new Rng(0))).toBe(x);
  });

  it("draws an op's mask from the step's seed, cell and op only", () => {
    const draw = (seed: number, cell: number, op: number) => Array.from({ length: 4 }, ((rng) => () => rng.next())(dropPathRng(seed, cell, op)));
    expect(draw(7, 2, 3)).toEqual(draw(7, 2, 3));
    expect(draw(7, 2, 3)).not.toEqual(draw(8, 2, 3));
    expect(draw(7, 2, 3)).not.toEqual(draw(7, 3, 3));
    expect(draw(7, 2, 3)).not.toEqual(draw(7, 2, 4));
  });
});

describe('FixedCell with scheduled drop path', () => {
  const cell = () => new FixedCell({ prevPrevChannels: 4, prevChannels: 4, channels: 4, genotype: AUTO_DEEPLAB_GENOTYPE, rng: new Rng(1), position: { cell: 11, cells: 12 } });
  const inputs = () => [tf.randomNormal([6, 6, 6, 4], 0, 1, 'float32', 1), tf.randomNormal([6, 6, 6, 4], 0, 1, 'float32', 2)] as tf.Tensor4D[];
  const context = (training: boolean, dropPath?: ForwardContext['dropPath']): ForwardContext => ({ training, kernels: kernelsFor(tf.getBackend()), dropPath });
  const run = (training: boolean, dropPath?: ForwardContext['dropPath']) =>
    tf.tidy(() => {
      const fixed = cell();
      const [a, b] = inputs();
      const out = Array.from(fixed.apply(a, b, context(training, dropPath)).dataSync());
      fixed.dispose();
      return out;
    });

  it('leaves evaluation untouched', () => {
    expect(run(false, { keepProb: 0.5, progress: 1, seed: 3 })).toEqual(run(false));
  });

  it('changes nothing in training at keepProb 1 or at the first step', () => {
    const plain = run(true);
    expect(run(true, { keepProb: 1, progress: 0.8, seed: 3 })).toEqual(plain);
    expect(run(true, { keepProb: 0.5, progress: 0, seed: 3 })).toEqual(plain);
  });

  it('drops in training late in the run, the same way for the same step seed (a resumed run draws the same masks)', () => {
    const late = { keepProb: 0.3, progress: 1, seed: 3 };
    const dropped = run(true, late);
    expect(dropped).not.toEqual(run(true));
    expect(run(true, late)).toEqual(dropped);
    expect(run(true, { ...late, seed: 4 })).not.toEqual(dropped);
  });
});
