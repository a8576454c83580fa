import { describe, expect, it } from 'vitest';
import { cosineLr, polyLr } from './schedules.js';

describe('cosine schedule of the search weights (0.025 → 0.001 over the epochs)', () => {
  const lr = (epoch: number) => cosineLr(epoch, 40, 0.025, 0.001);

  it('starts at the maximum, is halfway at the middle, ends at the minimum', () => {
    expect(lr(0)).toBe(0.025);
    expect(lr(20)).toBeCloseTo(0.013, 15);
    expect(lr(40)).toBeCloseTo(0.001, 15);
  });

  it('is a half cosine: a quarter of the way down it has fallen by (1 − cos(π/4)) / 2 of the range', () => {
    expect(lr(10)).toBeCloseTo(0.001 + 0.024 * (1 + Math.SQRT1_2) / 2, 15);
    expect(lr(30)).toBeCloseTo(0.001 + 0.024 * (1 - Math.SQRT1_2) / 2, 15);
  });

  it('falls at every epoch, slowest at both ends', () => {
    const values = Array.from({ length: 41 }, (_, epoch) => lr(epoch));
    const drops = values.slice(1).map((value, i) => values[i] - value);
    expect(drops.every((drop) => drop > 0)).toBe(true);
    expect(drops[0]).toBeLessThan(drops[19]);
    expect(drops[39]).toBeLessThan(drops[20]);
    expect(drops[0]).toBeCloseTo(drops[39], 15);
  });
});

describe('poly schedule of retraining (base · (1 − step / total)^0.9)', () => {
  it('starts at the base rate and reaches 0 at the last step', () => {
    expect(polyLr(0, 1000, 0.05)).toBe(0.05);
    expect(polyLr(1000, 1000, 0.05)).toBe(0);
    expect(polyLr(1500, 1000, 0.05)).toBe(0);
  });

  it('uses power 0.9 by default: halfway it is base · 0.5^0.9', () => {
    expect(polyLr(500, 1000, 0.05)).toBeCloseTo(0.05 * 0.5 ** 0.9, 15);
    expect(polyLr(250, 1000, 0.05, 2)).toBeCloseTo(0.05 * 0.75 ** 2, 15);
  });

  it('falls faster towards the end (power below 1)', () => {
    const drop = (step: number) => polyLr(step, 1000, 0.05) - polyLr(step + 1, 1000, 0.05);
    expect(drop(0)).toBeLessThan(drop(500));
    expect(drop(500)).toBeLessThan(drop(998));
  });
});
