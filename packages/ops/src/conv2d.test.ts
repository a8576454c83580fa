import { describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BatchNorm } from './batch-norm.js';
import { Conv2d, DepthwiseConv2d } from './conv2d.js';
import { Sequential } from './layer.js';
import { kernelsFor, Rng } from '@adl/backend';

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

describe('a BatchNorm folded into its conv in evaluation', () => {
  it('gives the unfolded values (to float rounding), for a 3×3 and a 1×1 conv, with and without bias, and leaves no tensors behind', () => {
    const rng = new Rng(3);
    const kernels = kernelsFor(tf.getBackend());
    const evaluation = { training: false, kernels };
    for (const [kernel, bias] of [[3, false], [1, false], [3, true]] as const) {
      const conv = new Conv2d({ inChannels: 4, outChannels: 5, kernel, bias, rng });
      const norm = new BatchNorm(5, { affine: true });
      // Running statistics and affine weights away from their initial values.
      norm.runningMean.assign(tf.tensor1d([0.5, -1, 2, 0, 0.25]));
      norm.runningVariance.assign(tf.tensor1d([2, 0.5, 1, 3, 0.1]));
      norm.gamma!.assign(tf.tensor1d([1.5, -0.5, 1, 2, 0.75]));
      norm.beta!.assign(tf.tensor1d([0.1, 0.2, -0.3, 0, 1]));
      if (bias) conv.bias!.assign(tf.tensor1d([1, -1, 0.5, 0, 2]));
      const x = tf.tensor4d(rng.normalArray(2 * 7 * 6 * 4), [2, 7, 6, 4]);
      const unfolded = tf.tidy(() => norm.apply(conv.apply(x, evaluation), evaluation));
      const before = tf.memory().numTensors;
      const folding = vi.spyOn(conv, 'applyFolding');
      const folded = new Sequential([conv, norm]).apply(x, evaluation);
      expect(folding).toHaveBeenCalledOnce();
      expect(tf.memory().numTensors).toBe(before + 1);
      const [a, b] = [unfolded.dataSync(), folded.dataSync()];
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 4);
      tf.dispose([x, unfolded, folded]);
    }
  });
});
