import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { generateSynthetic, listSplit, splitTrainAB } from '@adl/data-cityscapes';
import { parseArchitecture, SuperNet } from '@adl/trellis';
import { useFastestTestBackend } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from './checkpoint.js';
import { Adam, SgdMomentum } from './optimizers.js';
import { parseSearchConfig } from './search-config.js';
import { DivergenceError } from './train-step.js';
import { cosineLr } from './schedules.js';
import { planSearch, search, type SearchStep } from './search.js';
import { stat } from 'node:fs/promises';

const backend = await useFastestTestBackend();
let dataRoot: string;
const runs: string[] = [];
const outDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'adl-search-'));
  runs.push(dir);
  return dir;
};

beforeAll(async () => {
  dataRoot = await mkdtemp(join(tmpdir(), 'adl-search-data-'));
  // 8 training images: trainA and trainB hold 4 each, 2 steps per epoch at batch 2.
  await generateSynthetic({ dir: dataRoot, count: { train: 8, val: 1 }, height: 40, width: 56, seed: 4 });
});
afterAll(async () => {
  for (const dir of [dataRoot, ...runs]) await rm(dir, { recursive: true, force: true });
});

const tiny = (dir: string, overrides: object = {}) => ({
  dataRoot,
  outDir: dir,
  epochs: 3,
  warmupEpochs: 1,
  crop: 32,
  scale: [0.75, 1.25] as [number, number],
  layers: 1,
  filterMultiplier: 2,
  valImages: 1,
  checkpointEvery: 1,
  backend,
  ...overrides,
});

describe('search config', () => {
  it('defaults every setting to the paper (Auto-DeepLab §5.1, DARTS for the optimizers)', () => {
    expect(parseSearchConfig({ dataRoot: 'd', outDir: 'o' })).toEqual({
      dataRoot: 'd',
      outDir: 'o',
      // 40 epochs, α/β frozen for the first 20, batch 2, random 321×321 crops.
      epochs: 40,
      warmupEpochs: 20,
      batchSize: 2,
      crop: 321,
      // DeepLab's random scale range for Cityscapes.
      scale: [0.5, 2.0],
      // L = 12 layers, B = 5 blocks, F = 8; 19 Cityscapes classes.
      layers: 12,
      blocks: 5,
      filterMultiplier: 8,
      numClasses: 19,
      // Same gradients as without; only memory and time differ.
      recompute: true,
      // Beyond the paper, off: every mixed op computes on all its channels.
      partialChannels: 1,
      // One search cell per incoming edge of a node (Eq. 6 as the paper counts its cells).
      cells: 'per-edge',
      // Weights: SGD, momentum 0.9, weight decay 3e-4, cosine from 0.025 to 0.001.
      weights: { lrMax: 0.025, lrMin: 0.001, momentum: 0.9, weightDecay: 3e-4 },
      // α, β: Adam, lr 3e-3, betas (0.9, 0.999), weight decay 1e-3.
      architecture: { lr: 3e-3, beta1: 0.9, beta2: 0.999, weightDecay: 1e-3 },
      // Bookkeeping, not in the paper.
      valImages: 2,
      checkpointEvery: 50,
      keepCheckpoints: 3,
      // F = 20: the found cell is written at Auto-DeepLab-S's width.
      retrainFilterMultiplier: 20,
      seed: 0,
      backend: 'auto',
      onBadFile: 'stop',
    });
    // A partly given group keeps the paper's value for every field left out.
    expect(parseSearchConfig({ dataRoot: 'd', outDir: 'o', weights: { lrMax: 0.1 }, architecture: { lr: 1e-2 } })).toMatchObject({
      weights: { lrMax: 0.1, lrMin: 0.001, momentum: 0.9, weightDecay: 3e-4 },
      architecture: { lr: 1e-2, beta1: 0.9, beta2: 0.999, weightDecay: 1e-3 },
    });
  });

  it('names the bad field', () => {
    expect(() => parseSearchConfig({ dataRoot: 'd', outDir: 'o', epochs: -1 }, 'search.json')).toThrow(/^search\.json: epochs: /);
    expect(() => parseSearchConfig({ dataRoot: 'd', outDir: 'o', weights: { lrMax: 'high' } }, 'search.json')).toThrow(/weights\.lrMax/);
    expect(() => parseSearchConfig({ dataRoot: 'd', outDir: 'o', epoch: 3 }, 'search.json')).toThrow(/epoch/);
    expect(() => parseSearchConfig({ dataRoot: 'd', outDir: 'o', crop: 100_000 }, 'search.json')).toThrow(/^search\.json: crop: .*4096/);
    expect(() => parseSearchConfig({ dataRoot: 'd', outDir: 'o', epochs: 2 }, 'search.json')).toThrow(/warmupEpochs \(20\) exceeds epochs \(2\)/);
  });
});

describe('search on the synthetic set', () => {
  it('moves α/β only after the warm-up, on trainB, with the weights on trainA; writes the log and an architecture FixedNet loads; keeps the tensor count flat', async () => {
    const dir = await outDir();
    const counts: number[] = [];
    const snapshots: number[][][] = [];
    const steps: SearchStep[] = [];
    const result = await search(tiny(dir, { layers: 2 }), {
      progress: false,
      log: () => undefined,
      onStep: (info) => {
        counts.push(tf.memory().numTensors);
        steps.push(info);
      },
    });
    expect(result.steps).toBe(6);
    expect(new Set(counts.slice(1)).size).toBe(1);
    for (let epoch = 0; epoch < 3; epoch++) {
      snapshots.push(JSON.parse(await readFile(join(dir, 'alpha-beta', `epoch-00${epoch}.json`), 'utf8')).alpha);
    }
    // Epoch 0 is warm-up: α is still its initial value; it moves in epochs 1 and 2.
    expect(snapshots[1]).not.toEqual(snapshots[0]);
    expect(snapshots[2]).not.toEqual(snapshots[1]);
    const log = (await readFile(join(dir, 'search-log.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(log.map((r) => r.epoch)).toEqual([0, 1, 2]);
    expect(log[0].architectureLoss).toBeNull();
    expect(log[1].architectureLoss).toBeGreaterThan(0);
    expect(log[2].valMiou).toBeGreaterThanOrEqual(0);
    const architecture = parseArchitecture(JSON.parse(await readFile(join(dir, 'architecture.json'), 'utf8')), 'architecture.json');
    expect(architecture.path).toHaveLength(2);
    expect(architecture.genotype).toHaveLength(10);
    expect(architecture.filterMultiplier).toBe(20);

    // Each weight step trains on trainA and each architecture step (after the warm-up) on trainB,
    // every image once per epoch, at the scheduled learning rates.
    const { trainA, trainB } = splitTrainAB(await listSplit(dataRoot, 'train'), 0);
    const names = (samples: readonly { name: string }[]) => samples.map((sample) => sample.name).sort();
    expect(steps.map((s) => [s.step, s.epoch, s.batch])).toEqual([[1, 0, 0], [2, 0, 1], [3, 1, 0], [4, 1, 1], [5, 2, 0], [6, 2, 1]]);
    for (let epoch = 0; epoch < 3; epoch++) {
      const ofEpoch = steps.filter((s) => s.epoch === epoch);
      expect(ofEpoch.flatMap((s) => s.weightImages).sort()).toEqual(names(trainA));
      for (const s of ofEpoch) expect([s.weightLearningRate, s.weightLoss > 0]).toEqual([cosineLr(epoch, 3, 0.025, 0.001), true]);
      if (epoch === 0) {
        // The warm-up trains the weights alone.
        for (const s of ofEpoch) expect([s.architectureImages, s.architectureLearningRate, s.architectureLoss]).toEqual([undefined, undefined, undefined]);
      } else {
        expect(ofEpoch.flatMap((s) => s.architectureImages ?? []).sort()).toEqual(names(trainB));
        for (const s of ofEpoch) expect(s.architectureLearningRate).toBe(3e-3);
      }
    }
  });

  it('keeps α and β at their initial values through the warm-up epochs', async () => {
    const dir = await outDir();
    // valImages 0: no validation, the log says so with nulls.
    const warm = await search(tiny(dir, { epochs: 1, warmupEpochs: 1, valImages: 0 }), { progress: false, log: () => undefined });
    const fresh = await search(tiny(await outDir(), { epochs: 1, warmupEpochs: 1, stepsPerEpoch: 1, valImages: 0 }), { progress: false, log: () => undefined });
    expect(warm.alpha).toEqual(fresh.alpha);
    expect(warm.beta).toEqual(fresh.beta);
    expect(warm.records.map((r) => [r.valMiou, r.valPixelAccuracy])).toEqual([[null, null]]);
  });

  it('killed mid-epoch and resumed, ends exactly where an uninterrupted run ends', async () => {
    const straight = await outDir();
    const killed = await outDir();
    const full = await search(tiny(straight), { progress: false, log: () => undefined });
    // 2 steps per epoch: step 3 is the first batch of epoch 1, after the warm-up.
    const partial = await search(tiny(killed), { progress: false, log: () => undefined, stopAfterSteps: 3 });
    expect(partial.interrupted).toBe(true);
    const resumed = await search(tiny(killed), { progress: false, log: () => undefined, resume: true });
    expect(resumed.steps).toBe(full.steps);
    expect(resumed.alpha).toEqual(full.alpha);
    expect(resumed.beta).toEqual(full.beta);
    // The last checkpoints hold every weight, BN statistic and optimizer state: byte for byte equal.
    const manifest = JSON.parse(await readFile(join(straight, 'checkpoint.json'), 'utf8'));
    expect((await readFile(join(killed, manifest.data))).equals(await readFile(join(straight, manifest.data)))).toBe(true);
    expect(resumed.records.map((r) => r.path)).toEqual(full.records.map((r) => r.path));
  });

  it('resumes from a checkpoint with one mixed op per edge (the earlier layout) as from the same values batched by state', async () => {
    const first = await outDir();
    await search(tiny(first), { progress: false, log: () => undefined, stopAfterSteps: 1 });
    const { meta } = JSON.parse(await readFile(join(first, 'checkpoint.json'), 'utf8'));
    // The initial values of the search's supernet in each layout, under the step-1 checkpoint's bookkeeping.
    const checkpointOf = async (batchEdges: boolean) => {
      const dir = await outDir();
      await cp(first, dir, { recursive: true });
      const net = new SuperNet({ layers: 1, filterMultiplier: 2, seed: 0, recompute: true, batchEdges });
      const sgd = new SgdMomentum(net.weightVariables(), 0.9, 3e-4);
      const adam = new Adam(net.architectureVariables(), 0.9, 0.999, 1e-3);
      await saveCheckpoint(dir, { weights: net.weightVariables(), batchNorm: net.stateVariables(), architecture: net.architectureVariables(), sgd: sgd.stateVariables(), adam: adam.stateVariables() }, meta, '1');
      [net, sgd, adam].forEach((owner) => owner.dispose());
      return dir;
    };
    const [perEdge, batched] = [await checkpointOf(false), await checkpointOf(true)];
    const lines: string[] = [];
    const fromPerEdge = await search(tiny(perEdge), { progress: false, log: (line) => lines.push(line), resume: true });
    const fromBatched = await search(tiny(batched), { progress: false, log: () => undefined, resume: true });
    expect(lines.some((line) => /checkpoint converted from one mixed op per edge/.test(line))).toBe(true);
    expect(fromPerEdge.alpha).toEqual(fromBatched.alpha);
    expect(fromPerEdge.beta).toEqual(fromBatched.beta);
    const manifest = JSON.parse(await readFile(join(batched, 'checkpoint.json'), 'utf8'));
    expect((await readFile(join(perEdge, manifest.data))).equals(await readFile(join(batched, manifest.data)))).toBe(true);
  });

  it('refuses a crop below the output stride of the levels its layers reach, before any work', async () => {
    const dir = await outDir();
    await expect(search(tiny(dir, { crop: 7 }), { progress: false, log: () => undefined })).rejects.toThrow(
      "crop 7: smaller than the network's output stride 8 (level 1, the deepest 1 layer(s) reach): its coarsest features would be under one pixel; use a crop of at least 8",
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('stops on divergence with a clear message and keeps the last good checkpoint; refuses a changed setting on resume', async () => {
    const dir = await outDir();
    await search(tiny(dir, { epochs: 3, warmupEpochs: 1 }), { progress: false, log: () => undefined, stopAfterSteps: 2 });
    const before = await readFile(join(dir, 'checkpoint.json'), 'utf8');
    const exploding = tiny(dir, { weights: { lrMax: 1e30, lrMin: 1e30, momentum: 0.9, weightDecay: 3e-4 } });
    await expect(search(exploding, { progress: false, log: () => undefined, resume: true })).rejects.toThrow(/checkpoint\.json: weights is \{.*\} there and \{.*\} now; these change the result/);
    await expect(search(tiny(dir, { stepsPerEpoch: 1 }), { progress: false, log: () => undefined, resume: true })).rejects.toThrow(/checkpoint\.json: stepsPerEpoch is undefined there and 1 now/);
    const error = await search(exploding, { progress: false, log: () => undefined, resume: true, acceptChanges: true }).catch((e) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    expect(error.name).toBe('DivergenceError');
    expect(error.cause.name).toMatch(/^(NonFiniteLossError|NonFiniteValueError)$/);
    expect(error.message).toMatch(/^search diverged at step (\d+): .*; nothing of that step was saved; the last good checkpoint is .*checkpoint\.json \(step (\d+)(?:, current again)?; the next step's loss was [\d.]+\): resume from it/);
    // Checkpoints are written after every step here; the good one is the newest whose next step ended
    // with a sane loss: the one before the failing step when the failure is in its update, an earlier
    // one when the failing step's own loss is not finite.
    const [failedStep, goodStep] = /step (\d+):.*\(step (\d+)[;,]/.exec(error.message)!.slice(1).map(Number);
    const after = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'));
    expect(JSON.parse(before).meta.step).toBe(2);
    expect(after.meta.step).toBe(goodStep);
    expect(goodStep).toBeLessThan(failedStep);
    const data = new Float32Array((await readFile(join(dir, after.data))).buffer.slice(0));
    expect(data.every(Number.isFinite)).toBe(true);
  });

  it('after weights pushed near overflow (a weight learning rate of 1e10), goes back to the newest checkpoint whose next step was sane, and resumes from it to the end', async () => {
    const dir = await outDir();
    const exploding = tiny(dir, { epochs: 2, weights: { lrMax: 1e10, lrMin: 1e9, momentum: 0.9, weightDecay: 3e-4 } });
    const error = await search(exploding, { progress: false, log: () => undefined }).catch((e) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    const [, failedStep, goodStep] = /^search diverged at step (\d+): .*the last good checkpoint is .*checkpoint\.json \(step (\d+)(?:, current again)?; the next step's loss was [\d.]+\): resume from it/.exec(error.message) ?? [];
    expect(Number(goodStep)).toBeLessThan(Number(failedStep));
    expect(JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')).meta.step).toBe(Number(goodStep));
    const resumed = await search(tiny(dir, { epochs: 2 }), { progress: false, log: () => undefined, resume: true, acceptChanges: true });
    expect(resumed.interrupted).toBe(false);
    expect(resumed.architecture).toBeDefined();
  });

  it('warns when α/β blow up (an architecture learning rate far too high)', async () => {
    const lines: string[] = [];
    await search(tiny(await outDir(), { epochs: 2, warmupEpochs: 1, architecture: { lr: 1e10, beta1: 0.9, beta2: 0.999, weightDecay: 1e-3 } }), { progress: false, log: (line) => lines.push(line) });
    expect(lines.filter((line) => line.startsWith('[adl] warning: epoch 1: |α|, |β| reach '))).toHaveLength(1);
    expect(lines.find((line) => line.includes('|α|'))).toMatch(/the α\/β learning rate \(10000000000\) is likely too high$/);
  });
});

describe('partial-channel search (PC-DARTS, beyond the paper)', () => {
  it('killed and resumed with K = 2, ends exactly where an uninterrupted run ends; decodes an architecture; refuses another K on resume', async () => {
    const straight = await outDir();
    const killed = await outDir();
    const config = (dir: string, overrides: object = {}) => tiny(dir, { partialChannels: 2, valImages: 0, ...overrides });
    const full = await search(config(straight), { progress: false, log: () => undefined });
    expect(full.architecture!.path).toHaveLength(1);
    await search(config(killed), { progress: false, log: () => undefined, stopAfterSteps: 3 });
    await expect(search(config(killed, { partialChannels: 1 }), { progress: false, log: () => undefined, resume: true })).rejects.toThrow(/partialChannels/);
    const resumed = await search(config(killed), { progress: false, log: () => undefined, resume: true });
    expect(resumed.alpha).toEqual(full.alpha);
    expect(resumed.beta).toEqual(full.beta);
    const manifest = JSON.parse(await readFile(join(straight, 'checkpoint.json'), 'utf8'));
    expect((await readFile(join(killed, manifest.data))).equals(await readFile(join(straight, manifest.data)))).toBe(true);
  });
});

describe('planSearch', () => {
  it('times each kind of step and a validation pass, writes nothing, and adds them up for the whole run', async () => {
    const dir = join(await outDir(), 'never-written');
    const tensors = tf.memory().numTensors;
    const plan = await planSearch(tiny(dir), { steps: 2, log: () => undefined });
    expect(tf.memory().numTensors).toBe(tensors);
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
    // 3 epochs of 2 steps: the first epoch's 2 steps train the weights only, the other 4 α and β too.
    expect(plan.phases.map((p) => [p.steps, p.timedSteps])).toEqual([
      [2, 2],
      [4, 2],
    ]);
    expect(plan.phases[1].secondsPerStep).toBeGreaterThan(plan.phases[0].secondsPerStep);
    expect(plan.evaluations.count).toBe(3);
    // Checkpoints: the start and every step (checkpointEvery 1).
    expect(plan.checkpoints.count).toBe(7);
    const sum = plan.setupSeconds + 2 * plan.phases[0].secondsPerStep + 4 * plan.phases[1].secondsPerStep + 3 * plan.evaluations.secondsEach + 7 * plan.checkpoints.secondsEach;
    expect(plan.totalSeconds).toBeCloseTo(sum, 9);
    expect(plan.maxRssBytes).toBeGreaterThan(0);
  });
});
