import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { generateSynthetic } from '@adl/data-cityscapes';
import { webGpuForTests } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrain } from './retrain.js';
import { search } from './search.js';
import { trainStep } from './train-step.js';

// A tiny search, then a tiny retraining of what it found, on WebGPU; skipped (saying why) without an adapter.
const webgpu = await webGpuForTests();

// A software adapter runs about one dispatch per 0.5 ms: this takes minutes when other tests share the cores.
describe.runIf(webgpu.device)('search and retrain on webgpu', { timeout: 600_000 }, () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'adl-webgpu-'));
    await generateSynthetic({ dir: join(root, 'data'), count: { train: 4, val: 1 }, height: 24, width: 32, seed: 4 });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await tf.setBackend('cpu');
  });

  it('runs end to end: weight and architecture steps, an architecture, retrained weights', async () => {
    const quiet = { progress: false, log: () => {} };
    const found = await search(
      { dataRoot: join(root, 'data'), outDir: join(root, 'search'), epochs: 2, warmupEpochs: 1, crop: 16, layers: 1, filterMultiplier: 2, valImages: 1, backend: 'webgpu' },
      quiet,
    );
    expect(tf.getBackend()).toBe('webgpu');
    expect(found.records.map((r) => Number.isFinite(r.weightLoss))).toEqual([true, true]);
    expect(Number.isFinite(found.records[1].architectureLoss)).toBe(true);
    const architecture = join(root, 'search', 'architecture.json');
    expect(JSON.parse(await readFile(architecture, 'utf8')).path).toHaveLength(1);
    const trained = await retrain(
      { dataRoot: join(root, 'data'), outDir: join(root, 'retrain'), architecture, asppChannels: 8, asppRates: [1, 2, 3], iterations: 2, evalEvery: 2, batchSize: 2, crop: 16, lr: 0.02, backend: 'webgpu' },
      quiet,
    );
    expect(trained.best?.valMiou).toBeGreaterThanOrEqual(0);
  });

  it('a step whose dispatch is invalid on the GPU stops with an error naming it, instead of training on what it did not write', async () => {
    await tf.setBackend('webgpu');
    const backend = tf.backend() as unknown as { runWebGPUProgram: (...args: unknown[]) => tf.TensorInfo };
    // Input Y is never read: the bind group is invalid and the dispatch writes nothing.
    const unused = {
      outputShape: [1, 2, 2, 3], shaderKey: 'adlTestUnusedInput4', variableNames: ['X', 'Y'], workgroupSize: [64, 1, 1],
      dispatchLayout: { x: [0, 1, 2, 3] }, dispatch: [1, 1, 1], size: true,
      getUserCode: () => 'fn main(index : i32) { if (index < uniforms.size) { result[index] = X[index]; } }',
    };
    const weight = tf.variable(tf.ones([3]));
    const model = {
      apply: (images: tf.Tensor4D) => {
        const broken = tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(unused, [images, images], 'float32')) as tf.Tensor4D;
        return tf.mul(broken, weight) as tf.Tensor4D;
      },
    };
    const optimizer = { apply: () => {} };
    const images = tf.ones([1, 2, 2, 3]) as tf.Tensor4D;
    const labels = tf.zeros([1, 2, 2], 'int32') as tf.Tensor3D;
    await expect(trainStep(model, [weight], optimizer, images, labels, 0.1, { training: true } as never, 'iteration 7')).rejects.toThrow(
      /^WebGPU error at iteration 7: .*binding index 2 not present in the bind group layout.* \(its results are wrong, so the run stops\)$/,
    );
    tf.dispose([weight, images, labels]);
  });
});
