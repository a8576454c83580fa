import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@adl/backend';
import { BatchLoader, DEFAULT_AUGMENT, generateSynthetic, listSplit, TRAIN_ID_LUT } from '@adl/data-cityscapes';
import { parseRetrainConfig, readCheckpoint, saveCheckpoint, selectInstalledBackend, SgdMomentum, trainStep } from '@adl/search';
import { FixedNet, PRESET_NAMES, PRESETS, RETRAIN_BATCH_NORM } from '@adl/trellis';
import { runPython, torchPython } from './python.js';

const python = torchPython();
let root: string;
let kernels: Awaited<ReturnType<typeof selectInstalledBackend>>['kernels'];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-torch-parity-'));
  ({ kernels } = await selectInstalledBackend({ backend: tf.getBackend() as 'onednn', log: () => undefined }));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Every op kind reads a cell input (so each runs at stride 2 in the reducing cells), one reads a block. */
const EVERY_OP = {
  name: 'every-op',
  path: [0, 1, 2, 1],
  genotype: [
    [0, 'max_pool_3x3'], [1, 'avg_pool_3x3'],
    [0, 'skip_connect'], [1, 'sep_conv_3x3'],
    [0, 'sep_conv_5x5'], [1, 'atrous_conv_3x3'],
    [0, 'atrous_conv_5x5'], [2, 'sep_conv_5x5'],
    [1, 'skip_connect'], [4, 'atrous_conv_3x3'],
  ] as [number, string][],
  filterMultiplier: 4,
};

type Architecture = typeof EVERY_OP;
const specOf = (architecture: Architecture, asppChannels: number, numClasses: number) => ({ architecture, numClasses, asppChannels, batchNorm: RETRAIN_BATCH_NORM });

/** A net with its BN scales, shifts and running statistics (and biases) drawn at random, so that their order matters. */
function randomNet(architecture: Architecture, asppChannels: number, numClasses: number, seed: number): FixedNet {
  const net = new FixedNet({ architecture, asppChannels, numClasses, seed });
  const rng = new Rng(seed + 1);
  for (const variable of [...net.trainableVariables(), ...net.stateVariables()].filter((v) => v.rank === 1)) {
    variable.assign(tf.tensor1d(Array.from({ length: variable.size }, () => 0.5 + rng.next())));
  }
  return net;
}

const randomTensor = (shape: number[], rng: Rng, scale = 1) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * rng.normal()), shape);
const maxAbs = (values: Float32Array) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDifference = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe.skipIf(!python)('adl_torch (PyTorch) against the TypeScript networks', () => {
  const rows: string[] = [];
  afterAll(() => console.log(`model | max |logit difference| | max |logit|\n${rows.join('\n')}`));

  it.each([...PRESET_NAMES.map((name) => [name, PRESETS[name] as unknown as Architecture, 256] as const), ['every op, F = 4', EVERY_OP, 16] as const])(
    '%s: the same weights give the same logits (within 1e-4 of the largest)',
    async (name, architecture, asppChannels) => {
      const dir = join(root, `logits-${name.replace(/\W+/g, '-')}`);
      const net = randomNet(architecture, asppChannels, 19, 3);
      await saveCheckpoint(dir, { weights: net.trainableVariables(), batchNorm: net.stateVariables() }, { net: specOf(architecture, asppChannels, 19) }, 'parity');
      const [n, h, w] = [2, 41, 57];
      const images = randomTensor([n, h, w, 3], new Rng(5));
      const ours = tf.tidy(() => net.apply(images as tf.Tensor4D, { training: false, kernels })).dataSync() as Float32Array;
      await writeFile(join(dir, 'input.bin'), images.dataSync() as Float32Array);
      runPython(python!, ['-m', 'adl_torch.parity', 'logits', dir, join(dir, 'input.bin'), String(n), String(h), String(w), join(dir, 'logits.bin')]);
      const theirs = new Float32Array((await readFile(join(dir, 'logits.bin'))).buffer.slice(0));
      expect(theirs.length).toBe(ours.length);
      const [difference, largest] = [maxDifference(ours, theirs), maxAbs(ours)];
      rows.push(`${name} | ${difference.toExponential(2)} | ${largest.toPrecision(4)}`);
      expect(difference).toBeLessThanOrEqual(1e-4 * largest);
      images.dispose();
      net.dispose();
    },
  );

  it.each([
    ['without drop path', undefined],
    ['with drop path (keep 0.5, 70% of training)', { keepProb: 0.5, progress: 0.7, seed: 12345 }],
  ])('one training step from equal weights and velocities on an equal batch: equal loss, weights, velocities and BN statistics (%s)', async (_name, dropPath) => {
    const dir = join(root, `step-${dropPath ? 'drop' : 'plain'}`);
    const numClasses = 5;
    const net = randomNet(EVERY_OP, 16, numClasses, 8);
    const variables = net.trainableVariables();
    const sgd = new SgdMomentum(variables, 0.9, 4e-5);
    const rng = new Rng(9);
    sgd.stateVariables().forEach((velocity) => velocity.assign(randomTensor(velocity.shape, rng, 0.01)));
    await saveCheckpoint(dir, { weights: variables, batchNorm: net.stateVariables(), sgd: sgd.stateVariables() }, { net: specOf(EVERY_OP, 16, numClasses) }, 'before');
    const [n, h, w] = [4, 35, 45];
    const images = randomTensor([n, h, w, 3], rng) as tf.Tensor4D;
    const labels = tf.tensor3d(Int32Array.from({ length: n * h * w }, () => (rng.next() < 0.1 ? 255 : Math.floor(rng.next() * numClasses))), [n, h, w], 'int32');
    await writeFile(join(dir, 'images.bin'), images.dataSync() as Float32Array);
    await writeFile(join(dir, 'labels.bin'), labels.dataSync() as Int32Array);
    const lr = 0.05;
    const loss = await trainStep(net, variables, sgd, images, labels, lr, { training: true, kernels, ...(dropPath ? { dropPath } : {}) }, 'parity');
    const settings = { lr, momentum: 0.9, weightDecay: 4e-5, ...(dropPath ? { dropPath } : {}) };
    const out = join(dir, 'after');
    const printed = runPython(python!, ['-m', 'adl_torch.parity', 'step', dir, join(dir, 'images.bin'), join(dir, 'labels.bin'), String(n), String(h), String(w), JSON.stringify(settings), out]);
    const theirLoss = JSON.parse(printed.stdout).loss;
    const { manifest, values } = await readCheckpoint(out);
    const ours = { weights: variables, batchNorm: net.stateVariables(), sgd: sgd.stateVariables() };
    const differences: Record<string, number> = {};
    for (const [group, list] of Object.entries(ours)) {
      const entries = manifest.tensors.filter((t) => t.group === group);
      expect(entries).toHaveLength(list.length);
      differences[group] = Math.max(...list.map((variable, i) => maxDifference(variable.dataSync() as Float32Array, values.subarray(entries[i].offset, entries[i].offset + variable.size))));
    }
    console.log(`one step ${_name}: loss ${loss} vs ${theirLoss} (difference ${Math.abs(loss - theirLoss).toExponential(2)}); max |weight difference| ${differences.weights.toExponential(2)}, BN statistics ${differences.batchNorm.toExponential(2)}, velocities ${differences.sgd.toExponential(2)}`);
    expect(Math.abs(loss - theirLoss)).toBeLessThan(1e-5 * Math.abs(loss));
    expect(differences.weights).toBeLessThan(1e-5);
    expect(differences.batchNorm).toBeLessThan(1e-5);
    expect(differences.sgd).toBeLessThan(1e-4);
    tf.dispose([images, labels]);
    sgd.dispose();
    net.dispose();
  });

  it('reads the Cityscapes folder the same way: the same batches, pixel for pixel, label for label', async () => {
    const dataRoot = join(root, 'data');
    await generateSynthetic({ dir: dataRoot, count: { train: 6 }, height: 37, width: 53, seed: 4 });
    const loader = new BatchLoader({ samples: await listSplit(dataRoot, 'train'), batchSize: 2, seed: 11, prefetch: 0, augment: { ...DEFAULT_AUGMENT, crop: [33, 33], scale: [0.5, 2] } });
    for (const iteration of [0, 4]) {
      const batch = await loader.load({ epoch: Math.floor(iteration / loader.batchesPerEpoch), batch: iteration % loader.batchesPerEpoch });
      const out = join(root, `batch-${iteration}`);
      runPython(python!, ['-m', 'adl_torch.parity', 'batch', dataRoot, '2', '33', '0.5', '2', '11', String(iteration), out]);
      const images = new Float32Array((await readFile(`${out}.images`)).buffer.slice(0));
      const labels = new Uint8Array(await readFile(`${out}.labels`));
      expect(maxDifference(batch.images, images)).toBe(0);
      expect(Buffer.from(labels).equals(Buffer.from(batch.trainIds))).toBe(true);
    }
  });

  it('has the retrain config defaults, the presets and the label map of the TypeScript side', async () => {
    const printed = runPython(python!, ['-m', 'adl_torch.parity', 'constants', JSON.stringify({ dataRoot: 'd', outDir: 'o', architecture: 'a' })]);
    const theirs = JSON.parse(printed.stdout);
    expect(theirs.config).toEqual(parseRetrainConfig({ dataRoot: 'd', outDir: 'o', architecture: 'a' }));
    expect(theirs.presets).toEqual(JSON.parse(JSON.stringify(PRESETS)));
    expect(theirs.trainIds).toEqual(Array.from(TRAIN_ID_LUT));
  });
});
