import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BatchLoader, DEFAULT_AUGMENT, generateKnownAnswerTask, listSplit, splitTrainAB } from '@adl/data-cityscapes';
import { normalizeBetas } from '@adl/decode';
import { crossEntropyIgnoring } from '@adl/ops';
import { SuperNet } from '@adl/trellis';
import { kernelsFor } from '@adl/backend';
import { useFastestTestBackend } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchTensors } from './batch-tensors.js';
import { restoreCheckpoint } from './checkpoint.js';
import { parseSearchConfig } from './search-config.js';
import { search } from './search.js';

// Does the search still search? A short search on the smallest known-answer task (the context task at
// 32²), then the trainB loss of its final weights under the α and β it started from and the ones it
// found: each of α and β must have lowered it on its own. A search whose α or β got no gradient (or
// the gradient of another loss) leaves it where it started. Which images each
// gradient comes from is gradient-sources.test.ts; that the β̂ the supernet trains is the one the
// decoder reads is checked here on the searched β.
const backend = await useFastestTestBackend();
let dataRoot: string;
let outDir: string;

beforeAll(async () => {
  dataRoot = await mkdtemp(join(tmpdir(), 'adl-searches-data-'));
  outDir = await mkdtemp(join(tmpdir(), 'adl-searches-'));
  await generateKnownAnswerTask({ task: 'context', dir: dataRoot, count: { train: 16 }, size: 32, seed: 3 });
});
afterAll(async () => {
  for (const dir of [dataRoot, outDir]) await rm(dir, { recursive: true, force: true });
});

describe('a search on a known-answer task', () => {
  it('finds an α and a β that each lower the trainB loss, and trains the β̂ the decoder reads', async () => {
    const config = parseSearchConfig({
      dataRoot, outDir, layers: 2, filterMultiplier: 2, batchSize: 4, crop: 32, scale: [1, 1],
      epochs: 5, warmupEpochs: 1, stepsPerEpoch: 4, valImages: 0, checkpointEvery: 100, architecture: { lr: 0.03 }, backend,
    });
    const result = await search(config, { progress: false, log: () => undefined });

    const net = new SuperNet({ layers: config.layers, blocks: config.blocks, filterMultiplier: config.filterMultiplier, numClasses: config.numClasses, seed: config.seed, recompute: config.recompute });
    const start = { alpha: net.alpha.arraySync(), beta: net.beta.arraySync() };
    const found = { alpha: result.alpha, beta: result.beta };
    await restoreCheckpoint(outDir, { weights: net.weightVariables(), batchNorm: net.stateVariables() });

    // Every trainB image in one batch, as the architecture steps see them (training-mode BN).
    const { trainB } = splitTrainAB(await listSplit(dataRoot, 'train'), config.seed);
    const loader = new BatchLoader({ batchSize: trainB.length, augment: { ...DEFAULT_AUGMENT, crop: [32, 32], scale: [1, 1], flip: 0 }, prefetch: 0, onBadFile: 'stop', samples: trainB, seed: 0 });
    const { images, labels } = batchTensors(await loader.load({ epoch: 0, batch: 0 }));
    const ctx = { training: true, kernels: kernelsFor(tf.getBackend()) };
    const lossWith = (alpha: number[][], beta: number[][][]) => {
      net.alpha.assign(tf.tensor2d(alpha));
      net.beta.assign(tf.tensor3d(beta));
      return tf.tidy(() => crossEntropyIgnoring(net.apply(images, ctx), labels).dataSync()[0]);
    };
    const loss = {
      start: lossWith(start.alpha, start.beta),
      found: lossWith(found.alpha, found.beta),
      alphaOnly: lossWith(found.alpha, start.beta),
      betaOnly: lossWith(start.alpha, found.beta),
    };
    const betaHat = tf.tidy(() => net.betaHat().arraySync());
    tf.dispose([images, labels]);
    net.dispose();

    // The search as a whole, and α's part of it: the found α with the found β beats the starting α with it.
    expect(loss.found).toBeLessThan(loss.start - 0.02);
    expect(loss.found).toBeLessThan(loss.betaOnly - 0.02);
    // β's part is small and not always a gain at the final weights (examples/search-validity reports
    // it per task), but a β that got its gradient has moved by many Adam steps in one direction: with
    // none (weight decay alone) it stays within one step (the learning rate) of zero.
    const betaMoved = Math.max(...found.beta.flat(2).map((v, i) => Math.abs(v - start.beta.flat(2)[i])));
    expect(betaMoved).toBeGreaterThan(3 * config.architecture.lr);
    // Nodes that do not exist (no valid move) are all −∞ to the decoder and unused by the supernet.
    normalizeBetas(found.beta).forEach((layer, l) => layer.forEach((logProbs, j) => {
      if (logProbs.some((v) => v > -Infinity)) logProbs.forEach((v, k) => expect(betaHat[l][j][k]).toBeCloseTo(Math.exp(v), 5));
    }));
  });
});
