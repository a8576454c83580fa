import * as tf from '@tensorflow/tfjs';
import { AUTO_DEEPLAB_GENOTYPE } from '@adl/cell';
import { adamUpdate, portableKernels, Rng, selectBackend, sgdMomentumUpdate, type Kernels } from '@adl/backend';
import { onednnKernels } from '@adl/onednn';
import { expectNoLeakedTensors } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedNet } from './fixed-net.js';
import { SuperNet } from './supernet.js';

// The onednn backend where @adl/onednn was built; these tests are skipped elsewhere.
const onednn = await selectBackend({ backend: 'onednn', log: null }).then(
  (choice) => choice.backend === 'onednn',
  () => false,
);
await tf.setBackend('cpu');

const image = (shape: [number, number, number, number], seed: number) =>
  tf.tensor4d(new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1)), shape);

interface Net {
  apply(x: tf.Tensor4D, ctx: { training: boolean; kernels: Kernels }): tf.Tensor4D;
  dispose(): void;
}

/** Loss and gradients of every trainable variable with one kernel set. */
function gradients(net: Net, variables: tf.Variable[], kernels: Kernels, x: tf.Tensor4D, target: tf.Tensor4D): { loss: number; grads: Float32Array[] } {
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.mul(net.apply(x, { training: true, kernels }), target)) as tf.Scalar, variables);
  const result = { loss: value.dataSync()[0], grads: variables.map((v) => grads[v.name].dataSync() as Float32Array) };
  tf.dispose([value, ...Object.values(grads)]);
  return result;
}

/** The onednn kernel set with its fused kernels replaced by the portable elementwise forms. */
const elementwiseForms: Kernels = {
  ...onednnKernels,
  maxPool3x3: portableKernels.maxPool3x3,
  avgPool3x3: portableKernels.avgPool3x3,
  batchStatistics: portableKernels.batchStatistics,
  weightedSum: portableKernels.weightedSum,
};

/**
 * The onednn kernel set (fused pools, batch statistics and weighted sums) against the elementwise
 * forms on the same backend (the convolutions are compared with tfjs's in @adl/ops). Batch 4 at 32×32: with batch 2, BN over the image-pooling branch (one value per image) and
 * over 1×1 maps normalises near-equal values, and float32 rounding alone moves gradients by percents.
 */
function expectSameGradients(makeNet: () => Net, variables: (net: Net) => tf.Variable[]): void {
  const x = image([4, 32, 32, 3], 1);
  const target = image([4, 32, 32, 3], 2);
  const [reference, fused] = [elementwiseForms, onednnKernels].map((kernels) => {
    const net = makeNet();
    const result = gradients(net, variables(net), kernels, x, target);
    net.dispose();
    return result;
  });
  expect(fused.loss).toBeCloseTo(reference.loss, 5);
  // Float32 summation order differs (convolutions and reductions): compare on the largest gradient's scale.
  const scale = Math.max(...reference.grads.map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
  let worst = 0;
  reference.grads.forEach((g, i) => g.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - fused.grads[i][j])))));
  expect(worst).toBeLessThanOrEqual(1e-3 * scale);
  tf.dispose([x, target]);
}

describe.runIf(onednn)('networks on the onednn backend', () => {
  beforeAll(() => tf.setBackend('onednn'));
  afterAll(() => tf.setBackend('cpu'));

  it('the supernet has the gradients of the elementwise forms', () => {
    expectSameGradients(
      () => new SuperNet({ layers: 3, filterMultiplier: 2, numClasses: 3, seed: 5, recompute: true, recomputeMinOutputFloats: 0 }),
      (net) => [...(net as SuperNet).architectureVariables(), ...(net as SuperNet).weightVariables()],
    );
  });

  it('a fixed net has the gradients of the elementwise forms', () => {
    const architecture = { path: [0, 1, 2, 1], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2 };
    expectSameGradients(
      () => new FixedNet({ architecture, numClasses: 3, asppRates: [1, 2, 3] }),
      (net) => (net as FixedNet).trainableVariables(),
    );
  });

  it('search steps with the one-pass updates (SGD on weights, Adam on α/β) keep the tensor count flat', async () => {
    const net = new SuperNet({ layers: 2, filterMultiplier: 2, numClasses: 3, recompute: true, recomputeMinOutputFloats: 0 });
    const x = image([2, 16, 16, 3], 3);
    const loss = () => tf.mean(tf.square(net.apply(x, { training: true, kernels: onednnKernels }))) as tf.Scalar;
    const slots = (variables: tf.Variable[]) => variables.map((v) => tf.variable(tf.zerosLike(v), false));
    const [weights, architecture] = [net.weightVariables(), net.architectureVariables()];
    const [velocity, first, second] = [slots(weights), slots(architecture), slots(architecture)];
    let step = 0;
    await expectNoLeakedTensors(() => {
      step++;
      const w = tf.variableGrads(loss, weights);
      weights.forEach((v, i) => sgdMomentumUpdate(v, velocity[i], w.grads[v.name], { learningRate: 0.025, momentum: 0.9, weightDecay: 3e-4 }));
      const a = tf.variableGrads(loss, architecture);
      const adam = { learningRate: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-3, step };
      architecture.forEach((v, i) => adamUpdate(v, first[i], second[i], a.grads[v.name], adam));
      tf.dispose([w.value, a.value, ...Object.values(w.grads), ...Object.values(a.grads)]);
    });
    tf.dispose([x, ...velocity, ...first, ...second]);
    net.dispose();
  });
});
