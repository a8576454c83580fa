import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { generateSynthetic } from '@adl/data-cityscapes';
import { webGpuForTests } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrain } from './retrain.js';
import { search } from './search.js';

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
});
