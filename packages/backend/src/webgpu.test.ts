import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catchGpuErrors } from './gpu-errors.js';
import { kernelsFor } from './kernel-sets.js';
import { adamUpdate, sgdMomentumUpdate } from './optimizer-updates.js';
import { useBackend } from './testing/backends.js';
import { kernelConformanceCases } from './testing/kernel-conformance.js';
import { gradients, referenceAdam, referenceSgd, sgdUpdatesAgainstOneAtATime, start } from './testing/optimizer-reference.js';
import { webGpuForTests } from './testing/webgpu.js';
import { probeWebGpu } from './webgpu-probe.js';

// The kernel set WebGPU runs with, against the cpu backend's values and finite differences.
const webgpu = await webGpuForTests();

/** Shader dispatches `run` makes on the webgpu backend (tfjs's programs and the package's own kernels). */
async function dispatches(run: () => unknown): Promise<number> {
  const probe = probeWebGpu();
  try {
    tf.dispose(run() as tf.TensorContainer);
  } finally {
    probe.stop();
  }
  return probe.counts().dispatches;
}

describe.runIf(webgpu.device)('kernels on webgpu', () => {
  beforeAll(() => useBackend('webgpu'));
  afterAll(() => useBackend('cpu'));
  const kernels = kernelsFor('webgpu');

  it('the webgpu set (WGSL batch statistics and weighted sums) is the one picked', () => {
    expect(kernels.name).toBe('webgpu');
  });

  describe(kernels.name, () => {
    for (const { name, run } of kernelConformanceCases(kernels, 'webgpu')) it(name, run);
  });

  it('a 3×3 pool is 1 dispatch each way, a small batch norm (with or without scale) 1 each way, a weighted sum of 8 terms 1 and 2', async () => {
    const x = tf.randomNormal([2, 5, 5, 4]) as tf.Tensor4D;
    const terms = Array.from({ length: 8 }, () => tf.randomNormal([2, 5, 5, 4]));
    const weights = tf.softmax(tf.randomNormal([8])) as tf.Tensor1D;
    for (const pool of [kernels.maxPool3x3, kernels.avgPool3x3]) {
      expect(await dispatches(() => pool(x))).toBe(1);
      expect(await dispatches(() => tf.grad((input: tf.Tensor) => pool(input as tf.Tensor4D))(x, x))).toBe(2);
    }
    expect(await dispatches(() => kernels.batchStatistics(x, 1e-5).normalised)).toBe(1);
    expect(await dispatches(() => kernels.weightedSum(terms, weights))).toBe(1);
    const bnGradient = tf.grad((input: tf.Tensor) => kernels.batchStatistics(input as tf.Tensor4D, 1e-5).normalised);
    const dy = tf.randomNormal(x.shape);
    // Forward 1, backward 1, and none for the incoming dy (given).
    expect(await dispatches(() => bnGradient(x, dy))).toBe(2);
    const [scale, offset] = [tf.randomNormal([4]) as tf.Tensor1D, tf.randomNormal([4]) as tf.Tensor1D];
    expect(await dispatches(() => kernels.affineBatchNorm!(x, scale, offset, 1e-5).output)).toBe(1);
    const affineGradient = tf.grads((input: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => kernels.affineBatchNorm!(input as tf.Tensor4D, s as tf.Tensor1D, o as tf.Tensor1D, 1e-5).output);
    expect(await dispatches(() => affineGradient([x, scale, offset], dy))).toBe(2);
    const sumGradient = tf.grads((w: tf.Tensor, ...t: tf.Tensor[]) => kernels.weightedSum(t, w as tf.Tensor1D));
    expect(await dispatches(() => sumGradient([weights, ...terms], dy))).toBe(1 + 2);
    tf.dispose([x, ...terms, weights, dy, scale, offset]);
  });

  it('catchGpuErrors names an invalid dispatch (which writes nothing and does not throw), and is null after valid work', async () => {
    const backend = tf.backend() as unknown as { runWebGPUProgram: (...args: unknown[]) => tf.TensorInfo };
    // Input Y is never read: its binding is missing from the shader's layout, so the bind group is invalid.
    // 37 elements: a buffer size no other test frees, so the output buffer is a new one (zeros), not a reused one.
    const unused = {
      outputShape: [37], shaderKey: 'adlTestUnusedInput', variableNames: ['X', 'Y'], workgroupSize: [64, 1, 1],
      dispatchLayout: { x: [0] }, dispatch: [1, 1, 1], size: true,
      getUserCode: () => 'fn main(index : i32) { if (index < uniforms.size) { result[index] = X[index]; } }',
    };
    const x = tf.ones([37]);
    const invalid = catchGpuErrors();
    const output = tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(unused, [x, x], 'float32'));
    expect(await invalid()).toMatch(/binding index 2 not present in the bind group layout/);
    expect(Array.from(await output.data())).toEqual(new Array(37).fill(0));
    const valid = catchGpuErrors();
    const sum = kernels.weightedSum([x, x], [1, 2]);
    expect(await valid()).toBeNull();
    expect(Array.from(await sum.data())).toEqual(new Array(37).fill(3));
    tf.dispose([x, output, sum]);
  });

  it('SGD of several variables at once: one kernel call, equal bit for bit to one update at a time', async () => {
    expect(await sgdUpdatesAgainstOneAtATime()).toEqual({ bitEqual: true, fusedCallsPerStep: 1, noTensorsLeft: true });
  });

  it('SGD and Adam updates: one kernel per variable (1 and 3 dispatches), equal to PyTorch, no tensors left over', async () => {
    const [w, velocity] = [tf.variable(tf.tensor1d(start)), tf.variable(tf.zeros([3]))];
    const before = tf.memory().numTensors;
    const sgdDispatches: number[] = [];
    for (const g of gradients) {
      const gradient = tf.tensor1d(g);
      sgdDispatches.push(await dispatches(() => sgdMomentumUpdate(w, velocity, gradient, { learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 })));
      gradient.dispose();
    }
    expect(sgdDispatches).toEqual([1, 1, 1]);
    expect(tf.memory().numTensors).toBe(before);
    const expectedSgd = referenceSgd([...start], gradients, 0.1, 0.9, 0.01);
    Array.from(await w.data()).forEach((x, i) => expect(x).toBeCloseTo(expectedSgd[i], 5));

    const [a, m, v] = [tf.variable(tf.tensor1d(start)), tf.variable(tf.zeros([3])), tf.variable(tf.zeros([3]))];
    const adamDispatches: number[] = [];
    for (const [t, g] of gradients.entries()) {
      const gradient = tf.tensor1d(g);
      adamDispatches.push(await dispatches(() => adamUpdate(a, m, v, gradient, { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-3, step: t + 1 })));
      gradient.dispose();
    }
    expect(adamDispatches).toEqual([3, 3, 3]);
    const expectedAdam = referenceAdam([...start], gradients, 0.01, 0.9, 0.999, 1e-8, 1e-3);
    Array.from(await a.data()).forEach((x, i) => expect(x).toBeCloseTo(expectedAdam[i], 5));
    tf.dispose([w, velocity, a, m, v]);
  });
});
