import { describe, expect, it } from 'vitest';
import { architectureEntropy, EXPECTATIONS, largeFieldShare, meanLevel, opMix } from './analyse.js';

describe('what a validity run reads from a search', () => {
  it('mean level, op mix and the share of ops with a field larger than 3×3', () => {
    const genotype: [number, string][] = [[0, 'sep_conv_5x5'], [1, 'skip_connect'], [1, 'atrous_conv_3x3'], [2, 'sep_conv_3x3']];
    expect(meanLevel([0, 1, 2, 3])).toBe(1.5);
    expect(opMix(genotype)).toEqual({ sep_conv_5x5: 1, skip_connect: 1, atrous_conv_3x3: 1, sep_conv_3x3: 1 });
    expect(largeFieldShare(genotype)).toBe(0.5);
  });

  it('entropy is 1 where α and β̂ are uniform, near 0 where one choice dominates', () => {
    const uniform = architectureEntropy([[0, 0, 0, 0, 0, 0, 0, 0]], [[[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]]);
    expect(uniform.alpha).toBeCloseTo(1, 10);
    expect(uniform.beta).toBeCloseTo(1, 10);
    const certain = architectureEntropy([[50, 0, 0, 0, 0, 0, 0, 0]], [[[0, 50, 0], [0, 50, 0], [0, 0, 0], [0, 0, 0]], [[0, 50, 0], [0, 50, 0], [0, 50, 0], [0, 0, 0]]]);
    expect(certain.alpha).toBeLessThan(1e-10);
    expect(certain.beta).toBeLessThan(1e-10);
  });

  it('each task’s expectation: the coarse path for detail, the fine one for context (what retrains better), β left near uniform for control', () => {
    const entropy = { start: 1, end: 0.97 };
    expect(EXPECTATIONS.detail.held({ path: [1, 2, 2, 1], genotype: [] }, entropy)).toBe(true);
    expect(EXPECTATIONS.detail.held({ path: [0, 1, 2, 1], genotype: [] }, entropy)).toBe(false);
    expect(EXPECTATIONS.context.held({ path: [0, 1, 1, 0], genotype: [] }, entropy)).toBe(true);
    expect(EXPECTATIONS.context.held({ path: [0, 1, 2, 1], genotype: [] }, entropy)).toBe(false);
    expect(EXPECTATIONS.control.held({ path: [0, 0, 0, 0], genotype: [] }, entropy)).toBe(true);
    expect(EXPECTATIONS.control.held({ path: [0, 0, 0, 0], genotype: [] }, { start: 1, end: 0.9 })).toBe(false);
  });
});
