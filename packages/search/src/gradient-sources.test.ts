import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BatchLoader, DEFAULT_AUGMENT, generateSynthetic, listSplit, splitTrainAB, type Batch } from '@adl/data-cityscapes';
import { crossEntropyIgnoring } from '@adl/ops';
import { SuperNet } from '@adl/trellis';
import { kernelsFor } from '@adl/backend';
import { useFastestTestBackend } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchTensors } from './batch-tensors.js';
import { readCheckpoint } from './checkpoint.js';
import { Adam, SgdMomentum } from './optimizers.js';
import { parseSearchConfig } from './search-config.js';
import { search, type SearchStep } from './search.js';

// Which images each gradient of a search step is computed from, checked by recomputing the step: the
// weights' SGD step from the gradient of the trainA batch the step reports, then the α/β Adam step
// from the gradient of its trainB batch at the updated weights. A search that drew the gradients
// from the other batch, or gave α and β none, ends elsewhere.
const backend = await useFastestTestBackend();
let dataRoot: string;
let outDir: string;

beforeAll(async () => {
  dataRoot = await mkdtemp(join(tmpdir(), 'adl-sources-data-'));
  outDir = await mkdtemp(join(tmpdir(), 'adl-sources-'));
  await generateSynthetic({ dir: dataRoot, count: { train: 8 }, height: 40, width: 56, seed: 9 });
});
afterAll(async () => {
  for (const dir of [dataRoot, outDir]) await rm(dir, { recursive: true, force: true });
});

describe('the gradients of a search step', () => {
  it('the weights follow the gradient of the step\'s trainA batch, α and β that of its trainB batch', async () => {
    const config = parseSearchConfig({ dataRoot, outDir, epochs: 1, warmupEpochs: 0, stepsPerEpoch: 1, crop: 32, scale: [0.75, 1.25], layers: 1, filterMultiplier: 2, valImages: 0, checkpointEvery: 1, backend });
    const steps: SearchStep[] = [];
    const result = await search(config, { progress: false, log: () => undefined, onStep: (step) => steps.push(step) });
    expect(steps).toHaveLength(1);

    // The batches as the search's loaders make them: trainA with the run's seed, trainB with seed + 1.
    const { trainA, trainB } = splitTrainAB(await listSplit(dataRoot, 'train'), config.seed);
    const loader = (samples: typeof trainA, seed: number) =>
      new BatchLoader({ batchSize: config.batchSize, augment: { ...DEFAULT_AUGMENT, crop: [config.crop, config.crop], scale: config.scale }, prefetch: 0, onBadFile: 'stop', samples, seed });
    const position = { epoch: 0, batch: 0 };
    const [batchA, batchB] = [await loader(trainA, config.seed).load(position), await loader(trainB, config.seed + 1).load(position)];
    expect(batchA.names).toEqual(steps[0].weightImages);
    expect(batchB.names).toEqual(steps[0].architectureImages);

    /** The step recomputed from the initial network with the given batches: weights and α, β after it. */
    const recompute = (weightBatch: Batch, architectureBatch: Batch) => {
      const net = new SuperNet({ layers: config.layers, blocks: config.blocks, filterMultiplier: config.filterMultiplier, numClasses: config.numClasses, seed: config.seed, recompute: config.recompute });
      const ctx = { training: true, kernels: kernelsFor(tf.getBackend()) };
      const step = (batch: Batch, variables: tf.Variable[], optimizer: SgdMomentum | Adam, lr: number) => {
        const { images, labels } = batchTensors(batch);
        const { grads } = tf.variableGrads(() => crossEntropyIgnoring(net.apply(images, ctx), labels), variables);
        optimizer.apply(variables.map((v) => grads[v.name]), lr);
        tf.dispose([images, labels, ...Object.values(grads)]);
      };
      const sgd = new SgdMomentum(net.weightVariables(), config.weights.momentum, config.weights.weightDecay);
      const adam = new Adam(net.architectureVariables(), config.architecture.beta1, config.architecture.beta2, config.architecture.weightDecay);
      step(weightBatch, net.weightVariables(), sgd, steps[0].weightLearningRate);
      step(architectureBatch, net.architectureVariables(), adam, config.architecture.lr);
      const values = { weights: net.weightVariables().map((v) => v.dataSync().slice()), alpha: net.alpha.dataSync().slice(), beta: net.beta.dataSync().slice() };
      [net, sgd, adam].forEach((owner) => owner.dispose());
      return values;
    };
    const largestDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i])), 0);
    const { values, manifest } = await readCheckpoint(outDir);
    const savedWeights = manifest.tensors.filter((t) => t.group === 'weights').map((t) => values.subarray(t.offset, t.offset + t.shape.reduce((a, b) => a * b, 1)));
    const searched = { alpha: result.alpha.flat(), beta: result.beta.flat(2) };
    const distance = (expected: ReturnType<typeof recompute>) => ({
      weights: Math.max(...expected.weights.map((w, i) => largestDifference(w, savedWeights[i]))),
      architecture: Math.max(largestDifference(expected.alpha, searched.alpha), largestDifference(expected.beta, searched.beta)),
    });
    const right = distance(recompute(batchA, batchB));
    const swapped = distance(recompute(batchB, batchA));
    // Adam's first step moves each α, β entry by about its learning rate (3e-3), whatever the gradient's size.
    expect(right.weights).toBeLessThan(1e-5);
    expect(right.architecture).toBeLessThan(1e-5);
    expect(swapped.weights).toBeGreaterThan(1e-3);
    expect(swapped.architecture).toBeGreaterThan(1e-3);
  });
});
