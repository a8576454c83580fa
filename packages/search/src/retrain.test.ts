import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { generateSynthetic, listSplit } from '@adl/data-cityscapes';
import { kernelsFor } from '@adl/backend';
import { useFastestTestBackend } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateSamples } from '@adl/eval';
import { BatchNorm } from '@adl/ops';
import { readCheckpoint } from './checkpoint.js';
import { loadTrainedNet } from './load-trained-net.js';
import { DivergenceError } from './train-step.js';
import { parseRetrainConfig } from './retrain-config.js';
import type { ProgressUpdate } from './progress.js';
import { bestRecord, planRetrain, retrain } from './retrain.js';
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
      // 500K iterations; momentum 0.9, weight decay 4e-5 and BatchNorm decay 0.9997 and epsilon 1e-3
      // from `nas_arg_scope`; no drop path (the official keep probability defaults to 1).
      lr: 0.05,
      power: 0.9,
      momentum: 0.9,
      weightDecay: 4e-5,
      batchNormDecay: 0.9997,
      batchNormEpsilon: 1e-3,
      dropPathKeepProb: 1,
      // Recomputing cells in the backward pass (same gradients, less memory; as the search does).
      recompute: true,
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
      keepCheckpoints: 3,
      seed: 0,
      backend: 'auto',
      onBadFile: 'stop',
    });
    expect(() => parseRetrainConfig({ dataRoot: 'd', outDir: 'o', architecture: 'x', crop: 0 }, 'retrain.json')).toThrow(/^retrain\.json: crop: /);
    expect(() => parseRetrainConfig({ dataRoot: 'd', outDir: 'o', architecture: 'x', crop: 0 })).toThrow(/^retrain config: crop: /);
    expect(() => parseRetrainConfig({ dataRoot: 'd', outDir: 'o', architecture: 'x', crop: 100_000 })).toThrow(/^retrain config: crop: .*4096/);
  });

  it('trains with the poly schedule, keeps the best weights, and those reload into an equal net', async () => {
    const outDir = join(root, 'run');
    const config = { dataRoot: join(root, 'data'), outDir, architecture: await tinyArchitecture(), asppChannels: 8, asppRates: [1, 2, 3] as [number, number, number], iterations: 4, evalEvery: 2, batchSize: 2, crop: 32, lr: 0.02, backend };
    const lines: string[] = [];
    const updates: { update: ProgressUpdate; at: number }[] = [];
    const progress = { update: (update: ProgressUpdate) => updates.push({ update, at: performance.now() }), stop: () => {} };
    const started = performance.now();
    const result = await retrain(config, { progress, log: (line) => lines.push(line) });
    // A second run leaves no more tensors than the first (kernel caches of constants stay).
    const afterFirst = tf.memory().numTensors;
    await retrain({ ...config, outDir: join(root, 'again') }, { progress: false, log: () => {} });
    expect(tf.memory().numTensors).toBe(afterFirst);
    // The caller's log gets the selector's line (the backend the config names), not stderr.
    expect(lines.some((line) => line.includes(`backend ${backend}`))).toBe(true);
    expect(result.records.map((r) => r.iteration)).toEqual([2, 4]);
    expect(result.records[0].learningRate).toBeCloseTo(polyLr(1, 4, 0.02, 0.9), 12);
    expect(await readFile(join(outDir, 'retrain-log.jsonl'), 'utf8')).toBe(result.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    expect(JSON.parse(await readFile(join(outDir, 'architecture.json'), 'utf8'))).toEqual(result.architecture);
    // Progress: one update per iteration; 4 training images at batch 2 are 2 batches per epoch; the
    // loss shown is the mean since the last evaluation (so at an evaluation, the record's train loss).
    expect(updates.map(({ update }) => [update.step, update.epoch])).toEqual([[1, 0], [2, 0], [3, 1], [4, 1]]);
    expect(updates[1].update.loss).toBeCloseTo(result.records[0].trainLoss, 12);
    expect(updates[3].update.loss).toBeCloseTo(result.records[1].trainLoss, 12);
    for (const r of result.records) expect(r.trainLoss).toBeGreaterThan(0.5);
    // images/s: the batch over the step's own time, which lies within the time since the previous update.
    updates.forEach(({ update, at }, i) => {
      const stepSeconds = 2 / update.imagesPerSecond;
      expect(stepSeconds).toBeGreaterThan(0);
      expect(stepSeconds).toBeLessThanOrEqual((at - (i ? updates[i - 1].at : started)) / 1000);
    });
    const { net, spec } = await loadTrainedNet(join(outDir, 'best'));
    expect(spec).toMatchObject({ numClasses: 19, asppChannels: 8, asppRates: [1, 2, 3] });
    expect(spec.architecture.path).toEqual([0, 0]);
    // Trained in training mode: batch norm's running statistics moved from their start (mean 0, variance 1).
    expect(net.stateVariables().some((v) => Array.from(v.dataSync()).some((x) => x !== 0 && x !== 1))).toBe(true);
    const { metrics } = await evaluateSamples(net, await listSplit(join(root, 'data'), 'val'), { kernels: kernelsFor(tf.getBackend()), numClasses: 19 });
    expect(metrics.miou).toBe(result.best!.valMiou);
    net.dispose();
    // The run's own checkpoint (the last iteration) loads as a trained net too.
    (await loadTrainedNet(outDir)).net.dispose();
    await expect(loadTrainedNet(root)).rejects.toThrow(/checkpoint\.json: no checkpoint here/);
  });

  it('plans without writing: training steps and validation passes added up for the whole run', async () => {
    const outDir = join(root, 'planned');
    const config = { dataRoot: join(root, 'data'), outDir, architecture: await tinyArchitecture(), asppChannels: 8, iterations: 30, evalEvery: 10, valImages: 1, batchSize: 2, crop: 32, backend };
    const tensors = tf.memory().numTensors;
    const plan = await planRetrain(config, { steps: 3, log: () => {} });
    expect(tf.memory().numTensors).toBe(tensors);
    await expect(readdir(outDir)).rejects.toThrow(/ENOENT/);
    expect(plan.phases.map((p) => [p.steps, p.timedSteps])).toEqual([[30, 3]]);
    expect(plan.evaluations.count).toBe(3);
    // checkpointEvery 1000 (default): a checkpoint at the start and at each validation (10, 20, 30), and best/ there too.
    expect(plan.checkpoints.count).toBe(7);
    expect(plan.totalSeconds).toBeCloseTo(plan.setupSeconds + 30 * plan.phases[0].secondsPerStep + 3 * plan.evaluations.secondsEach + 7 * plan.checkpoints.secondsEach, 9);
  });

  it.each([1, 0.2])('stopped after an iteration and resumed, ends where an uninterrupted run ends (drop path keep %s); evaluates at the last iteration and on valImages only', async (dropPathKeepProb) => {
    const architecture = await tinyArchitecture();
    const config = (outDir: string) => ({ dataRoot: join(root, 'data'), outDir, architecture, asppChannels: 8, iterations: 3, evalEvery: 2, valImages: 1, checkpointEvery: 1, batchSize: 2, crop: 32, backend, dropPathKeepProb });
    const straight = join(root, `straight-${dropPathKeepProb}`);
    const stopped = join(root, `stopped-${dropPathKeepProb}`);
    const full = await retrain(config(straight), { progress: false, log: () => {} });
    await retrain(config(stopped), { progress: false, log: () => {}, stopAfterIterations: 1 });
    const lines: string[] = [];
    const resumed = await retrain(config(stopped), { progress: false, log: (line) => lines.push(line), resume: true });
    expect(lines).toContain('[adl] resuming retrain at step 1');
    expect(full.records.map((r) => r.iteration)).toEqual([2, 3]);
    expect(resumed.records).toEqual(full.records);
    const manifest = JSON.parse(await readFile(join(straight, 'checkpoint.json'), 'utf8'));
    // Byte for byte (Buffer.equals: a deep toEqual over a buffer takes tens of seconds).
    expect((await readFile(join(stopped, manifest.data))).equals(await readFile(join(straight, manifest.data)))).toBe(true);
    // valImages 1: the recorded mIoU is the first validation image's.
    const { net } = await loadTrainedNet(straight);
    const firstVal = (await listSplit(join(root, 'data'), 'val')).slice(0, 1);
    const { metrics } = await evaluateSamples(net, firstVal, { kernels: kernelsFor(tf.getBackend()), numClasses: 19 });
    net.dispose();
    expect(full.records[1].valMiou).toBe(metrics.miou);
  });

  it('drop path changes what is trained; the BN settings are stored with the weights, and checkpoints without them load with PyTorch\'s', async () => {
    const data = async (dir: string) => readFile(join(dir, JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')).data));
    expect((await data(join(root, 'straight-1'))).equals(await data(join(root, 'straight-0.2')))).toBe(false);
    const manifestPath = join(root, 'straight-1', 'checkpoint.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(manifest.meta.net.batchNorm).toEqual({ momentum: 1 - 0.9997, epsilon: 1e-3 });
    const bnOf = (net: { modules(): Iterable<unknown> }) => [...net.modules()].find((m) => m instanceof BatchNorm) as BatchNorm;
    const current = await loadTrainedNet(join(root, 'straight-1'));
    expect([bnOf(current.net).momentum, bnOf(current.net).epsilon]).toEqual([1 - 0.9997, 1e-3]);
    current.net.dispose();
    const legacy = join(root, 'legacy');
    await cp(join(root, 'straight-1'), legacy, { recursive: true });
    delete manifest.meta.net.batchNorm;
    await writeFile(join(legacy, 'checkpoint.json'), JSON.stringify(manifest));
    const old = await loadTrainedNet(legacy);
    expect([bnOf(old.net).momentum, bnOf(old.net).epsilon]).toEqual([0.1, 1e-5]);
    old.net.dispose();
  });

  it('on divergence writes nothing non-finite, names the step and the last good checkpoint, which resumes with a lower rate', async () => {
    const architecture = await tinyArchitecture();
    const outDir = join(root, 'diverging');
    const config = { dataRoot: join(root, 'data'), outDir, architecture, asppChannels: 8, iterations: 4, evalEvery: 2, checkpointEvery: 1, batchSize: 2, crop: 32, lr: 0.02, backend };
    await retrain(config, { progress: false, log: () => {}, stopAfterIterations: 2 });
    const error = await retrain({ ...config, lr: 1e30 }, { progress: false, log: () => {}, resume: true, acceptChanges: true }).catch((e) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    const [, failed, good] = /^retrain diverged at step (\d+): .*; nothing of that step was saved; the last good checkpoint is .*checkpoint\.json \(step (\d+); the next step's loss was [\d.]+\): resume from it with a lower learning rate \(--resume --accept-changes\)$/.exec(error.message) ?? [];
    expect(Number(good)).toBe(Number(failed) - 1);
    for (const dir of [outDir, join(outDir, 'best')]) {
      const { manifest, values } = await readCheckpoint<{ step?: number }>(dir);
      expect(values.every(Number.isFinite)).toBe(true);
      if (dir === outDir) expect(manifest.meta.step).toBe(Number(good));
    }
    const resumed = await retrain({ ...config, lr: 0.01 }, { progress: false, log: () => {}, resume: true, acceptChanges: true });
    expect(resumed.iterations).toBe(4);
  });

  it('refuses, before any work, a folder holding another run, an unwritable one, a train split smaller than a batch, an empty val split and a changed setting on resume', async () => {
    const architecture = await tinyArchitecture();
    const outDir = join(root, 'guarded');
    const config = { dataRoot: join(root, 'data'), outDir, architecture, asppChannels: 8, iterations: 1, evalEvery: 1, batchSize: 2, crop: 32, backend };
    const quiet = { progress: false, log: () => {} };
    await retrain(config, quiet);
    await expect(retrain(config, quiet)).rejects.toThrow(new RegExp(`^${outDir}: holds \\d+ file\\(s\\) of another run \\(architecture\\.json, best, checkpoint-0-`));
    await expect(retrain({ ...config, seed: 3 }, { ...quiet, resume: true })).rejects.toThrow(/checkpoint\.json: seed is 0 there and 3 now; these change the result/);
    // A width whose weights, gradients and velocities would not fit in memory, before the net is built.
    await expect(retrain({ ...config, outDir: join(root, 'too-wide'), filterMultiplier: 1_000_000 }, quiet)).rejects.toThrow(
      /^filterMultiplier 1000000: the network would hold \d\.\d\de\+\d+ parameters; its weights, gradients and velocities need \d\.\d\de\+\d+ GB, this machine has \d+\.\d GB$/,
    );
    // A crop below the output stride (path [0, 0]: stride 4), before the folder is looked at.
    await expect(retrain({ ...config, crop: 3 }, quiet)).rejects.toThrow("crop 3: smaller than the network's output stride 4 (the path's deepest level, 0): its coarsest features would be under one pixel; use a crop of at least 4");
    await expect(retrain({ ...config, lr: 0.1, batchSize: 1 }, { ...quiet, resume: true })).rejects.toThrow(/checkpoint\.json: batchSize is 2 there and 1 now; lr is 0\.05 there and 0\.1 now; /);
    // A killed write's leftovers go when the run resumes; recomputation may change on resume (runs
    // started before it was the default have recompute: false).
    await writeFile(join(outDir, 'checkpoint.json.123456'), '{');
    const lines: string[] = [];
    await retrain({ ...config, recompute: false }, { ...quiet, resume: true, log: (line) => lines.push(line) });
    expect(lines).toContain(`[adl] removed ${join(outDir, 'checkpoint.json.123456')}, left by an interrupted write`);
    // --force empties the folder first.
    await writeFile(join(outDir, 'stale.txt'), 'old run');
    await retrain(config, { ...quiet, force: true });
    expect(await readdir(outDir)).not.toContain('stale.txt');
    const file = join(root, 'a-file');
    await writeFile(file, '');
    await expect(retrain({ ...config, outDir: join(file, 'run') }, quiet)).rejects.toThrow(`${join(file, 'run')}: cannot create the output folder (ENOTDIR)`);
    await expect(retrain({ ...config, outDir: join(root, 'big'), batchSize: 5 }, quiet)).rejects.toThrow(`${join(root, 'data', 'leftImg8bit', 'train')}: 4 image(s), fewer than one batch of 5`);
    const noVal = join(root, 'no-val');
    await mkdir(join(noVal, 'leftImg8bit', 'val'), { recursive: true });
    await mkdir(join(noVal, 'gtFine', 'val'), { recursive: true });
    await cp(join(root, 'data', 'leftImg8bit', 'train'), join(noVal, 'leftImg8bit', 'train'), { recursive: true });
    await cp(join(root, 'data', 'gtFine', 'train'), join(noVal, 'gtFine', 'train'), { recursive: true });
    await expect(retrain({ ...config, dataRoot: noVal, outDir: join(root, 'nv') }, quiet)).rejects.toThrow(`${join(noVal, 'leftImg8bit', 'val')}: no images; retraining keeps best/ by the validation mIoU`);
    await expect(readdir(join(root, 'big'))).rejects.toThrow(/ENOENT/);
  });

  it('keeps the best record in best/: the highest mIoU, the earliest of equals', () => {
    const record = (iteration: number, valMiou: number) => ({ iteration, learningRate: 0, trainLoss: 1, valMiou, valPixelAccuracy: 0, valIou: [] });
    expect(bestRecord([])).toBeUndefined();
    expect(bestRecord([record(1, 0.2), record(2, 0.5), record(3, 0.4)])?.iteration).toBe(2);
    expect(bestRecord([record(1, 0.5), record(2, 0.5)])?.iteration).toBe(1);
    expect(bestRecord([record(1, 0), record(2, 0)])?.iteration).toBe(1);
  });
});

async function tinyArchitecture(): Promise<string> {
  const file = join(root, 'arch.json');
  const genotype = [[1, 'sep_conv_3x3'], [0, 'skip_connect'], [2, 'sep_conv_3x3'], [1, 'avg_pool_3x3'], [3, 'skip_connect'], [0, 'sep_conv_3x3'], [4, 'max_pool_3x3'], [1, 'skip_connect'], [5, 'sep_conv_3x3'], [2, 'skip_connect']];
  await writeFile(file, JSON.stringify({ name: 'tiny', path: [0, 0], genotype, filterMultiplier: 2 }));
  return file;
}
