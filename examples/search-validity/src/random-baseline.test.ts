import * as tf from '@tensorflow/tfjs';
import { Rng } from '@adl/backend';
import { describe, expect, it } from 'vitest';
import { multAddsOf, sampleArchitecture, sampleAtCost } from './random-baseline.js';

describe('random architectures of the search space', () => {
  it('are paths Viterbi decoding could return and valid cells, different draw by draw', () => {
    const rng = new Rng(3);
    const random = () => rng.next();
    const drawn = Array.from({ length: 50 }, () => sampleArchitecture(random, 4, 5, 8));
    for (const { path, genotype } of drawn) {
      expect([0, 1]).toContain(path[0]);
      path.forEach((level, l) => l > 0 && expect(Math.abs(level - path[l - 1])).toBeLessThanOrEqual(1));
      genotype.forEach(([input], i) => expect(input).toBeLessThan(Math.floor(i / 2) + 2));
      for (let b = 0; b < 5; b++) expect(genotype[2 * b][0]).not.toBe(genotype[2 * b + 1][0]);
    }
    expect(new Set(drawn.map((a) => JSON.stringify([a.path, a.genotype]))).size).toBeGreaterThan(45);
  });

  it('at equal cost: within ±10% of the target multiply-adds', async () => {
    await tf.setBackend('cpu');
    const target = multAddsOf(sampleArchitecture(() => 0.3, 4, 5, 8), 64);
    for (const { architecture, multAdds } of sampleAtCost(target, 3, 7, 4, 5, 8, 64)) {
      expect(multAdds).toBe(multAddsOf(architecture, 64));
      expect(Math.abs(multAdds / target - 1)).toBeLessThanOrEqual(0.1);
    }
  });
});
