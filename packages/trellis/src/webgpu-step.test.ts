import * as tf from '@tensorflow/tfjs';
import { AUTO_DEEPLAB_GENOTYPE } from '@adl/cell';
import { adamUpdate, kernelsFor, Rng, sgdMomentumUpdate, type Kernels } from '@adl/backend';
import { webGpuForTests } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedNet } from './fixed-net.js';
import { SuperNet } from './supernet.js';

// The networks on WebGPU against the cpu backend at the same seed; skipped (and saying why) without an adapter.
const webgpu = await webGpuForTests();

const image = (shape: [number, number, number, number], seed: number) =>
  tf.tensor4d(new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1)), shape);

interface Net {
  apply(x: tf.Tensor4D, ctx: { training: boolean; kernels: Kernels }): tf.Tensor4D;
  stateVariables(): tf.Variable[];
  dispose(): void;
}

/** Loss and every gradient of a fresh network on `backend`, read asynchronously (WebGPU cannot read synchronously). */
async function lossAndGradients(backend: string, makeNet: () => Net, variables: (net: Net) => tf.Variable[]) {
  await tf.setBackend(backend);
  const net = makeNet();
  const x = image([4, 16, 16, 3], 1);
  const target = image([4, 16, 16, 3], 2);
  const kernels = kernelsFor(backend);
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.mul(net.apply(x, { training: true, kernels }), target)) as tf.Scalar, variables(net));
  const loss = (await value.data())[0];
  const gradients = await Promise.all(variables(net).map(async (v) => (await grads[v.name].data()) as Float32Array));
  // The batch norms' running statistics, moved once by the step (on webgpu inside the batch-norm kernels).
  const running = await Promise.all(net.stateVariables().map(async (v) => (await v.data()) as Float32Array));
  tf.dispose([value, x, target, ...Object.values(grads)]);
  net.dispose();
  return { loss, gradients, running };
}

/** Loss equal, and every gradient equal on the scale of the largest (float32 summation order differs). */
async function expectSameAsCpu(makeNet: () => Net, variables: (net: Net) => tf.Variable[]) {
  const cpu = await lossAndGradients('cpu', makeNet, variables);
  const gpu = await lossAndGradients('webgpu', makeNet, variables);
  expect(gpu.loss).toBeCloseTo(cpu.loss, 5);
  const scale = Math.max(...cpu.gradients.map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
  let worst = 0;
  cpu.gradients.forEach((g, i) => g.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - gpu.gradients[i][j])))));
  expect(worst).toBeLessThanOrEqual(1e-3 * scale);
  expect(gpu.running.length).toBe(cpu.running.length);
  let runningWorst = 0;
  cpu.running.forEach((r, i) => r.forEach((v, j) => (runningWorst = Math.max(runningWorst, Math.abs(v - gpu.running[i][j]) / Math.max(1, Math.abs(v))))));
  expect(runningWorst).toBeLessThan(1e-4);
}

// A software adapter runs about one dispatch per 0.5 ms: these take minutes when other tests share the cores.
describe.runIf(webgpu.device)('networks on webgpu', { timeout: 600_000 }, () => {
  afterAll(() => tf.setBackend('cpu'));

  it('the supernet at L = 2 (edges between levels both ways) has the cpu backend\'s loss, gradients and running statistics', async () => {
    await expectSameAsCpu(
      () => new SuperNet({ layers: 2, filterMultiplier: 2, numClasses: 3, seed: 5, recompute: false }),
      (net) => [...(net as SuperNet).architectureVariables(), ...(net as SuperNet).weightVariables()],
    );
  });

  it('a fixed net has the cpu backend\'s loss, gradients and running statistics', async () => {
    const architecture = { path: [0, 1, 2, 1], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2 };
    await expectSameAsCpu(
      () => new FixedNet({ architecture, numClasses: 3, asppRates: [1, 2, 3] }),
      (net) => (net as FixedNet).trainableVariables(),
    );
  });

  describe('search steps', () => {
    beforeAll(() => tf.setBackend('webgpu'));

    it('keep the tensor count and the bytes on the GPU flat', async () => {
      const net = new SuperNet({ layers: 1, filterMultiplier: 2, numClasses: 3, recompute: false });
      const x = image([2, 8, 8, 3], 3);
      const kernels = kernelsFor('webgpu');
      const loss = () => tf.mean(tf.square(net.apply(x, { training: true, kernels }))) as tf.Scalar;
      const slots = (variables: tf.Variable[]) => variables.map((v) => tf.variable(tf.zerosLike(v), false));
      const [weights, architecture] = [net.weightVariables(), net.architectureVariables()];
      const [velocity, first, second] = [slots(weights), slots(architecture), slots(architecture)];
      const memory = () => tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
      const step = async (index: number) => {
        const w = tf.variableGrads(loss, weights);
        weights.forEach((v, i) => sgdMomentumUpdate(v, velocity[i], w.grads[v.name], { learningRate: 0.025, momentum: 0.9, weightDecay: 3e-4 }));
        const a = tf.variableGrads(loss, architecture);
        const adam = { learningRate: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-3, step: index };
        architecture.forEach((v, i) => adamUpdate(v, first[i], second[i], a.grads[v.name], adam));
        await a.value.data();
        tf.dispose([w.value, a.value, ...Object.values(w.grads), ...Object.values(a.grads)]);
      };
      // Two warm-up steps: the first leaves tensors created on the CPU side uploaded to the GPU.
      await step(1);
      await step(2);
      const before = memory();
      await step(3);
      const after = memory();
      expect(after.numTensors).toBe(before.numTensors);
      expect(after.numBytesInGPU).toBe(before.numBytesInGPU);
      tf.dispose([x, ...velocity, ...first, ...second]);
      net.dispose();
    });
  });
});
