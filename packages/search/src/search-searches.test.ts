import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { generateKnownAnswerTask } from '@adl/data-cityscapes';
import { normalizeBetas } from '@adl/decode';
import { SuperNet } from '@adl/trellis';
import { useFastestTestBackend } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { architectureLosses } from './architecture-losses.js';
import { parseSearchConfig } from './search-config.js';
import { search, superNetOptionsOf } from './search.js';

// Does the search still search? A short search on the smallest known-answer task (the context task at
// 32²), then the trainB loss of its final weights under the α and β it started from and the ones it
// found (`architectureLosses`). A search whose α got no gradient (or the gradient of another loss)
// leaves the loss where it started; a β that got none stays within one Adam step of zero. Which images
// each gradient comes from is gradient-sources.test.ts; that the β̂ the supernet trains is the one the
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
  it('finds an α that lowers the trainB loss and a β that moved, and trains the β̂ the decoder reads', async () => {
    const config = parseSearchConfig({
      dataRoot, outDir, layers: 2, filterMultiplier: 2, batchSize: 4, crop: 32, scale: [1, 1],
      epochs: 5, warmupEpochs: 1, stepsPerEpoch: 4, valImages: 0, checkpointEvery: 100, architecture: { lr: 0.03 }, backend,
    });
    const result = await search(config, { progress: false, log: () => undefined });

    const loss = await architectureLosses(config, result);
    const start = new SuperNet(superNetOptionsOf(config));
    const startBeta = start.beta.arraySync();
    tf.tidy(() => start.beta.assign(tf.tensor3d(result.beta)));
    const betaHat = tf.tidy(() => start.betaHat().arraySync());
    start.dispose();

    // The search as a whole, and α's part of it: the found α with the found β beats the starting α with it.
    expect(loss.found).toBeLessThan(loss.start - 0.02);
    expect(loss.found).toBeLessThan(loss.betaOnly - 0.02);
    // β's part is small and not always a gain at the final weights (examples/search-validity reports
    // it per task), but a β that got its gradient has moved by many Adam steps in one direction: with
    // none (weight decay alone) it stays within one step (the learning rate) of zero.
    const betaMoved = Math.max(...result.beta.flat(2).map((v, i) => Math.abs(v - startBeta.flat(2)[i])));
    expect(betaMoved).toBeGreaterThan(3 * config.architecture.lr);
    // Nodes that do not exist (no valid move) are all −∞ to the decoder and unused by the supernet.
    normalizeBetas(result.beta).forEach((layer, l) => layer.forEach((logProbs, j) => {
      if (logProbs.some((v) => v > -Infinity)) logProbs.forEach((v, k) => expect(betaHat[l][j][k]).toBeCloseTo(Math.exp(v), 5));
    }));
  });
});
