import { describe, expect, it } from 'vitest';
import { logSoftmax, softmax } from './softmax.js';

describe('softmax', () => {
  it('sums to 1 and keeps the order of the logits', () => {
    const p = softmax([1, 3, 2]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
    expect(p[1] > p[2] && p[2] > p[0]).toBe(true);
    expect(p[1] / p[0]).toBeCloseTo(Math.exp(2), 12);
  });

  it('is exact for logits far from 0 (shifted by their maximum)', () => {
    for (const value of logSoftmax([1000, 1000])) expect(value).toBeCloseTo(-Math.LN2, 12);
    const [large, small] = logSoftmax([1000, 0]);
    expect(large).toBeCloseTo(0, 12);
    expect(small).toBeCloseTo(-1000, 9);
    expect(logSoftmax([-1000, -1000 + Math.log(3)])[1]).toBeCloseTo(Math.log(3 / 4), 12);
  });

  it('normalises over the valid entries only: invalid ones are −∞ and do not shift the others, however large', () => {
    const [invalid, ...valid] = logSoftmax([1e4, 0, 0], [false, true, true]);
    expect(invalid).toBe(-Infinity);
    for (const value of valid) expect(value).toBeCloseTo(-Math.LN2, 12);
    expect(logSoftmax([0, 2, -1e4], [true, true, false])[0]).toBeCloseTo(-Math.log(1 + Math.exp(2)), 12);
  });
});
