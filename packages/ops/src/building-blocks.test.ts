import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeepLabV3Aspp, ImagePooling, SearchAspp, searchAsppRate } from './aspp.js';
import { Downsample, FactorizedReduce, UpsampleConv } from './resample.js';
import { Rng } from '@adl/backend';
import { Stem, STEM_CHANNELS } from './stem.js';
import { seededTensor, TEST_BACKENDS, useBackend } from '@adl/backend/test';
import { trainingContext } from './testing/context.js';
import { checkGradients } from '@adl/backend/test';

const rng = () => new Rng(11);
const trainableSize = (vars: tf.Variable[]) => vars.reduce((sum, v) => sum + v.size, 0);

describe('stem (design §4)', () => {
  it('is 3→64 (stride 2), 64→64, 64→128 (stride 2), with the hand-computed parameter count', () => {
    expect(STEM_CHANNELS).toEqual([64, 64, 128]);
    const stem = new Stem({ affine: true, rng: rng() });
    const convs = 27 * 64 + 9 * 64 * 64 + 9 * 64 * 128;
    expect(stem.cost([8, 8]).params).toBe(convs + 2 * (64 + 64 + 128));
    expect(trainableSize(stem.trainableVariables())).toBe(convs + 2 * (64 + 64 + 128));
    // Mult-adds: the first two convs at stride 2, the last at stride 4.
    expect(stem.cost([321, 321]).multAdds).toBe(161 * 161 * (27 * 64 + 9 * 64 * 64) + 81 * 81 * 9 * 64 * 128);
    expect(stem.outputSizes([321, 321])).toEqual({ stride2: [161, 161], stride4: [81, 81] });
    stem.dispose();
  });
});

describe('ASPP heads', () => {
  it('image pooling keeps the input size: one pooled value per channel, broadcast back', () => {
    const pooling = new ImagePooling(3, 2, true, rng());
    expect(pooling.outputSize([5, 7])).toEqual([5, 7]);
    pooling.dispose();
  });

  it('uses rate 96/s: 24, 12, 6, 3 at strides 4, 8, 16, 32', () => {
    expect([4, 8, 16, 32].map(searchAsppRate)).toEqual([24, 12, 6, 3]);
  });

  it('search form: three branches of B·F·2^i channels and a 1×1 classifier with bias', () => {
    const [cin, c, k] = [40, 40, 19];
    const head = new SearchAspp({ inChannels: cin, branchChannels: c, rate: 24, numClasses: k, affine: true, rng: rng() });
    const expected = cin * c + 2 * c + (9 * cin * c + 2 * c) + (cin * c + 2 * c) + (3 * c * k + k);
    expect(head.cost([10, 10]).params).toBe(expected);
    expect(trainableSize(head.trainableVariables())).toBe(expected);
    head.dispose();
  });

  it('DeepLabv3 form: 1×1, three 3×3 atrous, image pooling, 256 channels each, 1×1 projection', () => {
    const cin = 100;
    const aspp = new DeepLabV3Aspp({ inChannels: cin, rates: [12, 24, 36], rng: rng() });
    const expected = 5 * (cin * 256 + 512) + 3 * 8 * cin * 256 + (5 * 256 * 256 + 512);
    expect(aspp.cost([5, 5]).params).toBe(expected);
    expect(trainableSize(aspp.trainableVariables())).toBe(expected);
    aspp.dispose();
  });

  it('counts atrous convs at their output size, and as TensorFlow runs them: rounded up to the rate', () => {
    const cin = 10;
    const aspp = new DeepLabV3Aspp({ inChannels: cin, rates: [12, 24, 36], rng: rng() });
    // At 129×257 (stride 8 of 1025×2049): rate 12 → 132×264, rate 24 → 144×264, rate 36 → 144×288.
    const pixels = 129 * 257;
    const dense = (pixels * (1 + 3 * 9) + 1) * cin * 256 + pixels * 5 * 256 * 256;
    const atrousTf = (132 * 264 + 144 * 264 + 144 * 288) * 9 * cin * 256;
    expect(aspp.cost([129, 257]).multAdds).toBe(dense);
    expect(aspp.cost([129, 257]).tfMultAdds).toBe(dense - 3 * pixels * 9 * cin * 256 + atrousTf);
    aspp.dispose();
  });
});

describe('every block owns its variables', () => {
  const blocks = () => [
    new Stem({ affine: true, rng: rng() }),
    new SearchAspp({ inChannels: 6, branchChannels: 4, rate: 2, numClasses: 3, affine: true, rng: rng() }),
    new DeepLabV3Aspp({ inChannels: 6, outChannels: 4, rates: [1, 2, 3], rng: rng() }),
    new DeepLabV3Aspp({ inChannels: 6, outChannels: 4, rates: [1, 2, 3], separable: true, rng: rng() }),
    new Downsample({ inChannels: 4, outChannels: 6, affine: false, rng: rng() }),
    new UpsampleConv({ inChannels: 4, outChannels: 6, affine: true, rng: rng() }),
    new FactorizedReduce({ inChannels: 4, outChannels: 6, affine: true, rng: rng() }),
  ];

  it('lists the two running statistics of each BatchNorm, and frees every tensor on dispose', () => {
    const before = tf.memory().numTensors;
    const built = blocks();
    // BNs: stem 3; search head 3 (1×1, atrous, pooling); DeepLabv3 ASPP 5 branches + projection (the
    // separable form has 2 per atrous branch); down, up and reduce 1 each.
    expect(built.map((block) => block.stateVariables().length)).toEqual([6, 6, 12, 18, 2, 2, 2]);
    for (const block of built) expect(new Set([...block.trainableVariables(), ...block.stateVariables()]).size).toBe(block.trainableVariables().length + block.stateVariables().length);
    for (const block of built) block.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('DeepLabv3 ASPP with separable atrous branches (aspp_with_separable_conv): depthwise 3×3 + BN + ReLU, pointwise + BN + ReLU', () => {
    const [cin, c] = [10, 8];
    const aspp = new DeepLabV3Aspp({ inChannels: cin, outChannels: c, rates: [1, 2, 3], separable: true, rng: rng() });
    const separableBranch = 9 * cin + 2 * cin + cin * c + 2 * c;
    const expected = 2 * (cin * c + 2 * c) + 3 * separableBranch + (5 * c * c + 2 * c);
    expect(aspp.cost([5, 5]).params).toBe(expected);
    expect(trainableSize(aspp.trainableVariables())).toBe(expected);
    expect(aspp.outputSize([5, 7])).toEqual([5, 7]);
    aspp.dispose();
  });
});

describe('resampling between levels (design §4)', () => {
  it('factorized reduce: relu(x) at even pixels through one 1×1 conv, at odd pixels (zero past the edge) through the other', () => {
    expect(() => new FactorizedReduce({ inChannels: 2, outChannels: 3, affine: false, rng: rng() })).toThrow(/even outChannels, got 3/);
    const reduce = new FactorizedReduce({ inChannels: 1, outChannels: 2, affine: true, rng: rng() });
    for (const v of reduce.trainableVariables()) if (v.rank === 4) v.assign(tf.onesLike(v));
    // 3×3 input 1..9 with one negative value: even pixels (0,0) (0,2) (2,0) (2,2); odd pixels (1,1)
    // and past the edge. Inference-mode BN divides by √(1 + ε).
    const x = tf.tensor4d([1, 2, 3, 4, -5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const reduced = (input: tf.Tensor4D) => tf.tidy(() => tf.mul(reduce.apply(input, { ...trainingContext(), training: false }), Math.sqrt(1 + 1e-5)).arraySync() as number[][][][]);
    const rounded = (out: number[][][][]) => out[0].map((row) => row.map((pixel) => pixel.map((v) => +v.toFixed(4))));
    expect(rounded(reduced(x))).toEqual([
      [[1, 0], [3, 0]],
      [[7, 0], [9, 0]],
    ]);
    const y = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
    expect(rounded(reduced(y))).toEqual([
      [[1, 6], [3, 8]],
      [[9, 14], [11, 16]],
    ]);
    expect(reduce.outputSize([3, 3])).toEqual([2, 2]);
    tf.dispose(y);
    tf.dispose(x);
    reduce.dispose();
  });

  it('up: the output is one level finer, twice the size unless the target is given', () => {
    const up = new UpsampleConv({ inChannels: 2, outChannels: 2, affine: false, rng: rng() });
    expect(up.outputSize([5, 4])).toEqual([10, 8]);
    expect(tf.tidy(() => up.apply(tf.ones([1, 5, 4, 2]) as tf.Tensor4D, trainingContext()).shape)).toEqual([1, 10, 8, 2]);
    up.dispose();
  });

  it('down: 3×3 stride-2 conv; up: bilinear then 1×1 conv; factorized reduce: two half 1×1 convs', () => {
    const down = new Downsample({ inChannels: 8, outChannels: 16, affine: false, rng: rng() });
    const up = new UpsampleConv({ inChannels: 16, outChannels: 8, affine: false, rng: rng() });
    const reduce = new FactorizedReduce({ inChannels: 8, outChannels: 16, affine: true, rng: rng() });
    expect(down.cost([81, 81])).toEqual({ params: 9 * 8 * 16, multAdds: 41 * 41 * 9 * 8 * 16, tfMultAdds: 41 * 41 * 9 * 8 * 16 });
    expect(down.outputSize([81, 81])).toEqual([41, 41]);
    expect(up.cost([41, 41], [81, 81])).toEqual({ params: 16 * 8, multAdds: 81 * 81 * 16 * 8, tfMultAdds: 81 * 81 * 16 * 8 });
    expect(reduce.cost([8, 8]).params).toBe(2 * 8 * 8 + 32);
    for (const layer of [down, up, reduce]) layer.dispose();
  });
});

describe.each(TEST_BACKENDS)('building blocks on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('cpu'));

  it.each([
    [4, [13, 13]],
    [8, [7, 7]],
    [16, [4, 4]],
    [32, [2, 2]],
  ] as const)('shapes from a 49×49 image at stride %i', (stride, size) => {
    const stem = new Stem({ affine: false, rng: rng() });
    const ctx = trainingContext();
    tf.tidy(() => {
      const { stride2, stride4 } = stem.apply(tf.ones([2, 49, 49, 3]) as tf.Tensor4D, ctx);
      expect(stride2.shape).toEqual([2, 25, 25, 64]);
      expect(stride4.shape).toEqual([2, 13, 13, 128]);
      let features: tf.Tensor4D = stride4;
      for (let s = 4; s < stride; s *= 2) {
        features = new Downsample({ inChannels: 128, outChannels: 128, affine: false, rng: rng() }).apply(features, ctx);
      }
      expect(features.shape).toEqual([2, ...size, 128]);
      const head = new SearchAspp({ inChannels: 128, branchChannels: 8, rate: searchAsppRate(stride), numClasses: 5, affine: true, rng: rng() });
      expect(head.apply(features, ctx).shape).toEqual([2, ...size, 5]);
    });
    stem.dispose();
  });

  it('upsampling reaches an odd target size', () => {
    const up = new UpsampleConv({ inChannels: 4, outChannels: 3, affine: false, rng: rng() });
    const shape = tf.tidy(() => up.apply(tf.ones([1, 11, 11, 4]) as tf.Tensor4D, trainingContext(), [21, 21]).shape);
    expect(shape).toEqual([1, 21, 21, 3]);
    up.dispose();
  });

  it('gradients through stem, down/up resampling and the search head match finite differences', async () => {
    const stem = new Stem({ affine: true, rng: rng() });
    const down = new Downsample({ inChannels: 128, outChannels: 8, affine: false, rng: rng() });
    const up = new UpsampleConv({ inChannels: 8, outChannels: 6, affine: true, rng: rng() });
    const head = new SearchAspp({ inChannels: 6, branchChannels: 4, rate: 2, numClasses: 3, affine: true, rng: rng() });
    const image = tf.variable(seededTensor([4, 17, 15, 3], 21)) as tf.Variable<tf.Rank.R4>;
    const ctx = trainingContext();
    const loss = () => {
      const { stride4 } = stem.apply(image, ctx);
      const logits = head.apply(up.apply(down.apply(stride4, ctx), ctx, [5, 4]), ctx);
      return tf.sum(tf.mul(logits, seededTensor(logits.shape, 22))) as tf.Scalar;
    };
    const variables = [image, ...stem.trainableVariables(), ...down.trainableVariables(), ...up.trainableVariables(), ...head.trainableVariables()];
    await checkGradients(loss, variables);
    for (const layer of [stem, down, up, head]) layer.dispose();
    image.dispose();
  });
});
