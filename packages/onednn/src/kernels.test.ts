import * as tf from '@tensorflow/tfjs';
import { adamUpdate, kernelsFor, portableKernels, selectBackend, sgdMomentumUpdate, stockKernels } from '@adl/backend';
import { kernelConformanceCases, sgdUpdatesAgainstOneAtATime, useBackend } from '@adl/backend/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { binding } from './binding.js';
import { onednnKernels } from './kernels.js';

describe.runIf(binding)('on the onednn backend', () => {
  beforeAll(() => useBackend('onednn'));
  afterAll(() => useBackend('cpu'));

  describe.each([portableKernels, stockKernels, onednnKernels].map((kernels) => [kernels.name, kernels] as const))('the %s kernels', (_name, kernels) => {
    for (const { name, run } of kernelConformanceCases(kernels, 'onednn')) it(name, run);
  });

  it('updates several variables in one SGD kernel call, equal bit for bit to one update at a time', async () => {
    await useBackend('onednn');
    expect(await sgdUpdatesAgainstOneAtATime()).toEqual({ bitEqual: true, fusedCallsPerStep: 1, noTensorsLeft: true });
    await useBackend('cpu');
  });

  it("writes an SGD step's new values over the old ones where nothing else reads them, never under a clone", async () => {
    const hyper = { learningRate: 0.1, momentum: 0.9, weightDecay: 3e-4 };
    const arrayOf = (t: tf.Tensor) => (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values;
    const run = async (backend: string, checks: (w: tf.Variable, step: () => void) => void) => {
      await useBackend(backend);
      const [w, v] = [tf.variable(tf.tensor1d([0.5, -1, 2])), tf.variable(tf.tensor1d([0, 0.1, 0]))];
      const gradient = tf.tensor1d([0.3, -0.2, 0.1]);
      const before = tf.memory().numTensors;
      checks(w, () => sgdMomentumUpdate(w, v, gradient, hyper));
      expect(tf.memory().numTensors).toBe(before);
      const values = [...w.dataSync(), ...v.dataSync()];
      tf.dispose([w, v, gradient]);
      return values;
    };
    const onednn = await run('onednn', (w, step) => {
      step(); // the initial arrays are not the pool's: new ones
      const first = arrayOf(w);
      step();
      expect(arrayOf(w)).toBe(first);
      const clone = tf.clone(w);
      const cloned = [...arrayOf(clone)];
      step();
      expect([...arrayOf(clone)]).toEqual(cloned);
      expect(arrayOf(w)).not.toBe(first);
      clone.dispose();
    });
    const cpu = await run('cpu', (_, step) => [1, 2, 3].forEach(step));
    onednn.forEach((v, i) => expect(v).toBeCloseTo(cpu[i], 6));
    // tfjs keeps a caller's Float32Array as the tensor's data: it is never written over.
    await useBackend('onednn');
    const callers = Float32Array.of(0.5, -1, 2);
    const initial = [tf.tensor1d(callers), tf.tensor1d(new Float32Array(3))];
    const [w, v] = initial.map((t) => tf.variable(t));
    tf.dispose(initial);
    const gradient = tf.tensor1d([0.3, -0.2, 0.1]);
    sgdMomentumUpdate(w, v, gradient, hyper);
    expect([...callers]).toEqual([0.5, -1, 2]);
    tf.dispose([w, v, gradient]);
    await useBackend('cpu');
  });

  it('updates a variable in one kernel per optimizer step, with the values of the elementwise form', async () => {
    const sgd = { learningRate: 0.1, momentum: 0.9, weightDecay: 3e-4 };
    const adam = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-3, step: 3 };
    const run = async (backend: string) => {
      await useBackend(backend);
      const [w, a, b] = [[0.5, -1, 2], [0.1, 0.2, -0.3], [0.01, 0.02, 0.03]].map((v) => tf.variable(tf.tensor1d(v)));
      const gradient = tf.tensor1d([0.3, -0.2, 0.1]);
      const kernels = (await tf.profile(() => tf.tidy(() => sgdMomentumUpdate(w, a, gradient, sgd)))).kernelNames.join();
      const adamKernels = (await tf.profile(() => tf.tidy(() => adamUpdate(w, a, b, gradient, adam)))).kernelNames.join();
      const values = [w, a, b].map((v) => Array.from(v.dataSync()));
      tf.dispose([w, a, b, gradient]);
      return { kernels: [kernels, adamKernels], values };
    };
    const fused = await run('onednn');
    const elementwise = await run('cpu');
    expect(fused.kernels).toEqual(['AdlSgdMomentum', 'AdlAdam']);
    fused.values.flat().forEach((v, i) => expect(v).toBeCloseTo(elementwise.values.flat()[i], 6));
  });
});

describe.runIf(binding)('selecting the onednn backend', () => {
  afterEach(async () => {
    delete process.env.ADL_KERNELS;
    await tf.setBackend('cpu');
  });

  it('runs it with its own kernels, registered on import', async () => {
    const choice = await selectBackend({ backend: 'onednn', log: null });
    expect([choice.tfjsBackend, choice.kernels, tf.getBackend()]).toEqual(['onednn', onednnKernels, 'onednn']);
    expect(kernelsFor('onednn')).toBe(onednnKernels);
  });

  it('refuses its kernels on another backend', async () => {
    process.env.ADL_KERNELS = 'onednn';
    await expect(selectBackend({ backend: 'cpu', log: null })).rejects.toThrow(/onednn kernels do not run on the cpu backend/);
  });
});
