import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ForwardContext } from './layer.js';
import { portableKernels, stockKernels } from '@adl/backend';
import { recompute } from './recompute.js';
import { Rng } from '@adl/backend';
import { SepConv } from './sep-conv.js';

const ctx: ForwardContext = { training: true, kernels: portableKernels };

describe('recompute', () => {
  it('gives the same value and gradients (inputs, weights, a scalar weight) as the plain forward, and updates BN statistics once', () => {
    const rng = new Rng(3);
    const op = new SepConv({ channels: 4, kernel: 3, affine: true, rng });
    const x = tf.tensor4d(rng.normalArray(2 * 6 * 6 * 4), [2, 6, 6, 4]);
    const w = tf.scalar(0.7);
    const target = tf.tensor4d(rng.normalArray(2 * 6 * 6 * 4), [2, 6, 6, 4]);
    const variables = op.trainableVariables();
    const f = ([input, weight]: readonly tf.Tensor[], c: ForwardContext) => tf.mul(op.apply(input as tf.Tensor4D, c), weight) as tf.Tensor4D;
    const lossOf = (y: tf.Tensor) => tf.sum(tf.square(tf.sub(y, target))) as tf.Scalar;
    const statistics = () => op.stateVariables().map((v) => Array.from(v.dataSync()));

    const before = statistics();
    const plain = tf.engine().gradients(() => lossOf(f([x, w], ctx)), [x, w, ...variables]);
    const afterPlain = statistics();
    for (const v of op.stateVariables()) v.assign(tf.tensor(before.shift()!, v.shape));
    const checkpointed = tf.engine().gradients(() => lossOf(recompute(f, [x, w], variables, ctx)), [x, w, ...variables]);
    expect(statistics()).toEqual(afterPlain);

    expect(checkpointed.value.dataSync()[0]).toBeCloseTo(plain.value.dataSync()[0], 4);
    expect(checkpointed.grads).toHaveLength(plain.grads.length);
    plain.grads.forEach((g, i) => {
      const difference = tf.max(tf.abs(tf.sub(g, checkpointed.grads[i]))).dataSync()[0];
      const scale = tf.max(tf.abs(g)).dataSync()[0];
      expect(difference).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
    });
    tf.dispose([x, w, target, plain.value, checkpointed.value, ...plain.grads, ...checkpointed.grads]);
    op.dispose();
  });

  it('under frozenWeights, differentiates its inputs only: the same input gradients, bit for bit, and no filter gradient computed', async () => {
    const rng = new Rng(5);
    const op = new SepConv({ channels: 4, kernel: 3, affine: true, rng });
    const x = tf.tensor4d(rng.normalArray(2 * 6 * 6 * 4), [2, 6, 6, 4]);
    const f = ([input]: readonly tf.Tensor[], c: ForwardContext) => op.apply(input as tf.Tensor4D, c);
    const run = async (c: ForwardContext) => {
      let dx: tf.Tensor | undefined;
      const { kernels } = await tf.profile(() => {
        const { value, grads } = tf.engine().gradients(() => tf.sum(tf.square(recompute(f, [x], op.trainableVariables(), c))) as tf.Scalar, [x]);
        value.dispose();
        dx = grads[0];
      });
      const bytes = Buffer.from(dx!.dataSync().buffer);
      dx!.dispose();
      return { bytes, filterGradients: kernels.filter((k) => k.name === 'Conv2DBackpropFilter' || k.name === 'DepthwiseConv2dNativeBackpropFilter').length };
    };
    const stock: ForwardContext = { training: true, kernels: stockKernels };
    const all = await run(stock);
    const before = tf.memory().numTensors;
    const frozen = await run({ ...stock, frozenWeights: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(frozen.bytes).toEqual(all.bytes);
    // Two depthwise and two pointwise convs (tfjs's own kernels, whose gradients run only where needed).
    expect(all.filterGradients).toBe(4);
    expect(frozen.filterGradients).toBe(0);
    x.dispose();
    op.dispose();
  });

  it('keeps only its output alive from the forward pass', () => {
    const rng = new Rng(4);
    const op = new SepConv({ channels: 4, kernel: 5, affine: false, rng });
    const x = tf.tensor4d(rng.normalArray(2 * 8 * 8 * 4), [2, 8, 8, 4]);
    const before = tf.memory().numTensors;
    const y = recompute(([input], c) => op.apply(input as tf.Tensor4D, c), [x], op.trainableVariables(), ctx);
    expect(tf.memory().numTensors).toBe(before + 1);
    y.dispose();
    x.dispose();
    op.dispose();
  });
});
