import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { generateSynthetic, listSplit } from '@adl/data-cityscapes';
import { kernelsFor } from '@adl/backend';
import { useFastestTestBackend } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateSamples } from '@adl/eval';
import { loadTrainedNet } from './load-trained-net.js';
import { parseRetrainConfig } from './retrain-config.js';
import { retrain } from './retrain.js';
import { polyLr } from './schedules.js';

const backend = await useFastestTestBackend();
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-retrain-'));
  await generateSynthetic({ dir: join(root, 'data'), count: { train: 4, val: 2 }, height: 32, width: 48, seed: 2 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('retrain', () => {
  it('defaults every setting to the paper and the DeepLab NAS retraining code', () => {
    expect(parseRetrainConfig({ dataRoot: 'd', outDir: 'o', architecture: 'autodeeplab-s' })).toEqual({
      dataRoot: 'd',
      outDir: 'o',
      architecture: 'autodeeplab-s',
      // Auto-DeepLab §5.2 (Cityscapes): poly schedule (power 0.9) from 0.05, batch 14, 769×769 crops,
      // 500K iterations; momentum 0.9 and weight decay 4e-5 from `nas_arg_scope`.
      lr: 0.05,
      power: 0.9,
      momentum: 0.9,
      weightDecay: 4e-5,
      batchSize: 14,
      crop: 769,
      iterations: 500_000,
      // DeepLab's random scale range; the DeepLabv3 ASPP and decoder width.
      scale: [0.5, 2.0],
      asppChannels: 256,
      numClasses: 19,
      // Bookkeeping, not in the paper.
      evalEvery: 5000,
      valImages: 0,
      checkpointEvery: 1000,
      seed: 0,
      backend: 'auto',
      onBadFile: 'stop',
    });
    expect(() => parseRetrainConfig({ dataRoot: 'd', outDir: 'o', architecture: 'x', crop: 0 }, 'retrain.json')).toThrow(/^retrain\.json: crop: /);
  });

  it('trains with the poly schedule, keeps the best weights, and those reload into an equal net', async () => {
    const architecture = join(root, 'arch.json');
    const genotype = [[1, 'sep_conv_3x3'], [0, 'skip_connect'], [2, 'sep_conv_3x3'], [1, 'avg_pool_3x3'], [3, 'skip_connect'], [0, 'sep_conv_3x3'], [4, 'max_pool_3x3'], [1, 'skip_connect'], [5, 'sep_conv_3x3'], [2, 'skip_connect']];
    await import('node:fs/promises').then((fs) => fs.writeFile(architecture, JSON.stringify({ name: 'tiny', path: [0, 0], genotype, filterMultiplier: 2 })));
    const outDir = join(root, 'run');
    const config = { dataRoot: join(root, 'data'), outDir, architecture, asppChannels: 8, asppRates: [1, 2, 3] as [number, number, number], iterations: 4, evalEvery: 2, batchSize: 2, crop: 32, lr: 0.02, backend };
    const result = await retrain(config, { progress: false, log: () => {} });
    // A second run leaves no more tensors than the first (kernel caches of constants stay).
    const afterFirst = tf.memory().numTensors;
    await retrain({ ...config, outDir: join(root, 'again') }, { progress: false, log: () => {} });
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(result.records.map((r) => r.iteration)).toEqual([2, 4]);
    expect(result.records[0].learningRate).toBeCloseTo(polyLr(1, 4, 0.02, 0.9), 12);
    const log = (await readFile(join(outDir, 'retrain-log.jsonl'), 'utf8')).trim().split('\n');
    expect(log).toHaveLength(2);
    const { net, spec } = await loadTrainedNet(join(outDir, 'best'));
    expect(spec).toMatchObject({ numClasses: 19, asppChannels: 8, asppRates: [1, 2, 3] });
    expect(spec.architecture.path).toEqual([0, 0]);
    // Trained in training mode: batch norm's running statistics moved from their start (mean 0, variance 1).
    expect(net.stateVariables().some((v) => Array.from(v.dataSync()).some((x) => x !== 0 && x !== 1))).toBe(true);
    const { metrics } = await evaluateSamples(net, await listSplit(join(root, 'data'), 'val'), { kernels: kernelsFor(tf.getBackend()), numClasses: 19 });
    expect(metrics.miou).toBe(result.best!.valMiou);
    net.dispose();
    await expect(loadTrainedNet(root)).rejects.toThrow(/checkpoint\.json: no checkpoint here/);
  });
});
