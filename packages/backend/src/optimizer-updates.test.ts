import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { adamUpdate, groupsUpTo, OPTIMIZER_KERNELS, sgdMomentumUpdate } from './optimizer-updates.js';
import { TEST_BACKENDS, useBackend } from './testing/backends.js';
import { gradients, referenceAdam, referenceSgd, sgdUpdatesAgainstOneAtATime, start } from './testing/optimizer-reference.js';

describe.each(TEST_BACKENDS)('optimizer updates on %s', (backend) => {
  afterAll(() => useBackend('cpu'));

  it('sgdMomentumUpdate: three steps equal PyTorch SGD(momentum, weight_decay), no tensors left over', async () => {
    await useBackend(backend);
    const [w, velocity] = [tf.variable(tf.tensor1d(start)), tf.variable(tf.zeros([3]))];
    const before = tf.memory().numTensors;
    for (const g of gradients) tf.tidy(() => sgdMomentumUpdate(w, velocity, tf.tensor1d(g), { learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 }));
    expect(tf.memory().numTensors).toBe(before);
    const expected = referenceSgd([...start], gradients, 0.1, 0.9, 0.01);
    Array.from(w.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(expected[i], 5));
    tf.dispose([w, velocity]);
  });

  it('adamUpdate: three steps equal PyTorch Adam(weight_decay) with bias correction, no tensors left over', async () => {
    await useBackend(backend);
    const [w, m, v] = [tf.variable(tf.tensor1d(start)), tf.variable(tf.zeros([3])), tf.variable(tf.zeros([3]))];
    const before = tf.memory().numTensors;
    gradients.forEach((g, t) =>
      tf.tidy(() => adamUpdate(w, m, v, tf.tensor1d(g), { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-3, step: t + 1 })),
    );
    expect(tf.memory().numTensors).toBe(before);
    const expected = referenceAdam([...start], gradients, 0.01, 0.9, 0.999, 1e-8, 1e-3);
    Array.from(w.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(expected[i], 5));
    tf.dispose([w, m, v]);
  });

  it('sgdMomentumUpdates: variables of several shapes at once equal one update each, bit for bit', async () => {
    await useBackend(backend);
    expect(await sgdUpdatesAgainstOneAtATime()).toEqual({ bitEqual: true, fusedCallsPerStep: 0, noTensorsLeft: true });
  });

  it('is one kernel per variable on onednn, elementwise ops elsewhere', async () => {
    await useBackend(backend);
    const [w, a, b] = [0, 1, 2].map(() => tf.variable(tf.zeros([3])));
    // (tf.profile reuses its result object: read each before the next.)
    const sgd = (await tf.profile(() => tf.tidy(() => sgdMomentumUpdate(w, a, tf.ones([3]), { learningRate: 0.1, momentum: 0.9, weightDecay: 0 })))).kernelNames.join();
    const adam = (await tf.profile(() => tf.tidy(() => adamUpdate(w, a, b, tf.ones([3]), { learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0, step: 1 })))).kernelNames.join();
    expect(sgd === 'AdlSgdMomentum').toBe(backend === 'onednn');
    expect(adam === 'AdlAdam').toBe(backend === 'onednn');
    tf.dispose([w, a, b]);
  });
});

describe('groupsUpTo', () => {
  it('groups consecutive sizes up to the limit, a larger one alone', () => {
    expect(groupsUpTo([3, 4, 2, 10, 1, 1, 5], 8)).toEqual([[0, 1], [2], [3], [4, 5, 6]]);
    expect(groupsUpTo([], 8)).toEqual([]);
  });
});

describe('one-pass update kernels', () => {
  /** Registers `name` on cpu as a kernel that returns its inputs' values plus 100, recording calls and attributes. */
  function fakeKernel(name: string, outputs: number): { calls: number; attrs: unknown; remove: () => void } {
    const record = { calls: 0, attrs: undefined as unknown, remove: () => tf.unregisterKernel(name, 'cpu') };
    tf.registerKernel({
      kernelName: name,
      backendName: 'cpu',
      kernelFunc: ({ inputs, backend, attrs }) => {
        record.calls++;
        record.attrs = attrs;
        const cpu = backend as unknown as { readSync(id: object): Float32Array; makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo };
        return (Object.values(inputs) as tf.TensorInfo[])
          .slice(0, outputs)
          .map((input) => cpu.makeTensorInfo(input.shape, 'float32', cpu.readSync(input.dataId).map((x) => x + 100)));
      },
    });
    return record;
  }

  it('are used where the backend registers them, and write every slot they return', async () => {
    await useBackend('cpu');
    const [w, a, b] = [0, 1, 2].map((i) => tf.variable(tf.fill([3], i)));
    const sgd = fakeKernel(OPTIMIZER_KERNELS.sgdMomentum, 2);
    const adam = fakeKernel(OPTIMIZER_KERNELS.adam, 3);
    try {
      sgdMomentumUpdate(w, a, tf.ones([3]), { learningRate: 0.1, momentum: 0.9, weightDecay: 0 });
      expect([sgd.calls, ...w.dataSync(), ...a.dataSync()]).toEqual([1, 100, 100, 100, 101, 101, 101]);
      expect(sgd.attrs).toEqual({ learningRate: 0.1, momentum: 0.9, weightDecay: 0 });
      adamUpdate(w, a, b, tf.ones([3]), { learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0, step: 1 });
      expect([adam.calls, w.dataSync()[0], a.dataSync()[0], b.dataSync()[0]]).toEqual([1, 200, 201, 102]);
      // The bias corrections 1 − β^t travel with the hyper-parameters.
      expect(adam.attrs).toEqual({ learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0, correction1: 1 - 0.9, correction2: 1 - 0.99 });
    } finally {
      sgd.remove();
      adam.remove();
      tf.dispose([w, a, b]);
    }
  });
});
