import { describe, expect, it } from 'vitest';
import { Conv2d, DepthwiseConv2d } from './conv2d.js';
import { Rng } from '@adl/backend';

const std = (values: ArrayLike<number>) => {
  const n = values.length;
  const mean = Array.from(values).reduce((a, b) => a + b, 0) / n;
  return Math.sqrt(Array.from(values).reduce((a, b) => a + (b - mean) ** 2, 0) / n);
};

describe('initial weights', () => {
  it('are He-normal over the fan-in: √(2 / (k·k·in)) for dense convs, √(2 / (k·k)) for depthwise ones', () => {
    const dense = new Conv2d({ inChannels: 16, outChannels: 64, kernel: 3, rng: new Rng(1) });
    expect(std(dense.filter.dataSync()) / Math.sqrt(2 / (9 * 16))).toBeCloseTo(1, 1);
    const depthwise = new DepthwiseConv2d(256, 5, 1, new Rng(2));
    expect(std(depthwise.filter.dataSync()) / Math.sqrt(2 / 25)).toBeCloseTo(1, 1);
    dense.dispose();
    depthwise.dispose();
  });

  it('bias only where asked, starting at zero', () => {
    const plain = new Conv2d({ inChannels: 2, outChannels: 3, kernel: 1, rng: new Rng(1) });
    const biased = new Conv2d({ inChannels: 2, outChannels: 3, kernel: 1, bias: true, rng: new Rng(1) });
    expect(plain.bias).toBeUndefined();
    expect(Array.from(biased.bias!.dataSync())).toEqual([0, 0, 0]);
    expect(biased.cost([1, 1]).params).toBe(plain.cost([1, 1]).params + 3);
    plain.dispose();
    biased.dispose();
  });
});
