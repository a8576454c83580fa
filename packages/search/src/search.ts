import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { evaluateSamples } from '@adl/eval';
import { BatchLoader, DEFAULT_AUGMENT, listSplit, splitTrainAB, writeFileAtomic, type LoaderPosition } from '@adl/data-cityscapes';
import { decodeArchitecture, type GenotypeEdge } from '@adl/decode';
import { PRIMITIVES } from '@adl/ops';
import { SuperNet, type Architecture } from '@adl/trellis';
import { batchTensors } from './batch-tensors.js';
import { selectInstalledBackend } from './installed-backend.js';
import { readCheckpointManifest, restoreCheckpoint, saveCheckpoint, type VariableGroups } from './checkpoint.js';
import { parseSearchConfig, type SearchConfig, type SearchConfigInput } from './config.js';
import { Adam, SgdMomentum } from './optimizers.js';
import { createProgress } from './progress.js';
import { cosineLr } from './schedules.js';
import { trainStep } from './train-step.js';

/** One line of `search-log.jsonl`: the state of the search after an epoch. */
export interface EpochRecord {
  readonly epoch: number;
  readonly learningRate: number;
  readonly weightLoss: number;
  /** Mean trainB loss of the architecture steps, null during warm-up. */
  readonly architectureLoss: number | null;
  readonly valMiou: number | null;
  readonly valPixelAccuracy: number | null;
  /** The architecture decoded from α and β at this moment. */
  readonly genotype: GenotypeEdge[];
  readonly path: number[];
  readonly pathLogProb: number;
  readonly seconds: number;
}

/** What one step of the search trained on (passed to `SearchOptions.onStep`). */
export interface SearchStep {
  /** Global step, counted from 1. */
  readonly step: number;
  readonly epoch: number;
  readonly batch: number;
  /** The trainA images of the SGD step on the weights, and its learning rate. */
  readonly weightImages: readonly string[];
  readonly weightLearningRate: number;
  readonly weightLoss: number;
  /** The trainB images of the Adam step on α/β, its learning rate and loss; absent in the warm-up. */
  readonly architectureImages?: readonly string[];
  readonly architectureLearningRate?: number;
  readonly architectureLoss?: number;
}

export interface SearchOptions {
  /** Continue from `outDir/checkpoint.json`. */
  readonly resume?: boolean;
  /** Stop (as if killed) after this global step, leaving only what checkpoints wrote. */
  readonly stopAfterSteps?: number;
  readonly log?: (line: string) => void;
  readonly progress?: boolean;
  /** Called after every step with what it trained on (for monitoring; tests check the tensor count here). */
  readonly onStep?: (info: SearchStep) => void;
}

export interface SearchResult {
  readonly architecture: Architecture | undefined;
  readonly records: EpochRecord[];
  readonly steps: number;
  readonly interrupted: boolean;
  /** Final α [edges, 8] and β [L, 4, 3]. */
  readonly alpha: number[][];
  readonly beta: number[][][];
}

interface CheckpointMeta {
  readonly config: SearchConfig;
  readonly step: number;
  readonly next: LoaderPosition;
  readonly adam: Record<string, number>;
  readonly records: EpochRecord[];
  readonly epochSums: EpochSums;
}

interface EpochSums {
  weightLoss: number;
  architectureLoss: number;
  weightSteps: number;
  architectureSteps: number;
}

const CONFIG_FIELDS_FIXED_BY_CHECKPOINT = ['dataRoot', 'batchSize', 'crop', 'layers', 'blocks', 'filterMultiplier', 'numClasses', 'seed', 'epochs', 'warmupEpochs'] as const;

/**
 * Auto-DeepLab architecture search (SPEC §5). Each step: an SGD step on the weights with a trainA
 * batch; after the warm-up epochs, an Adam step on α and β with a trainB batch (first order, at the
 * current weights). After each epoch: validation on a held-out slice, the decoded architecture,
 * a line in `search-log.jsonl`, an α/β snapshot, and a checkpoint; at the end, `architecture.json`.
 */
export async function search(input: SearchConfigInput, options: SearchOptions = {}): Promise<SearchResult> {
  const config = parseSearchConfig(input);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { kernels } = await selectInstalledBackend({ backend: config.backend, log });
  const train = await listSplit(config.dataRoot, 'train');
  const val = config.valImages > 0 ? (await listSplit(config.dataRoot, 'val')).slice(0, config.valImages) : [];
  const { trainA, trainB } = splitTrainAB(train, config.seed);
  const augment = { ...DEFAULT_AUGMENT, crop: [config.crop, config.crop] as const, scale: config.scale };
  const loaderOptions = { batchSize: config.batchSize, augment, prefetch: 0, onBadFile: config.onBadFile };
  const loaderA = new BatchLoader({ ...loaderOptions, samples: trainA, seed: config.seed });
  const loaderB = new BatchLoader({ ...loaderOptions, samples: trainB, seed: config.seed + 1 });
  const stepsPerEpoch = Math.min(loaderA.batchesPerEpoch, loaderB.batchesPerEpoch, config.stepsPerEpoch ?? Infinity);

  const net = new SuperNet({ layers: config.layers, blocks: config.blocks, filterMultiplier: config.filterMultiplier, numClasses: config.numClasses, seed: config.seed, recompute: config.recompute });
  const weights = net.weightVariables();
  const architecture = net.architectureVariables();
  const sgd = new SgdMomentum(weights, config.weights.momentum, config.weights.weightDecay);
  const adam = new Adam(architecture, config.architecture.beta1, config.architecture.beta2, config.architecture.weightDecay);
  const groups: VariableGroups = {
    weights,
    batchNorm: net.stateVariables(),
    architecture,
    sgd: sgd.stateVariables(),
    adam: adam.stateVariables(),
  };

  let step = 0;
  let next: LoaderPosition = { epoch: 0, batch: 0 };
  let records: EpochRecord[] = [];
  let sums: EpochSums = { weightLoss: 0, architectureLoss: 0, weightSteps: 0, architectureSteps: 0 };
  if (options.resume && (await readCheckpointManifest(config.outDir))) {
    const meta = await restoreCheckpoint<CheckpointMeta>(config.outDir, groups);
    for (const field of CONFIG_FIELDS_FIXED_BY_CHECKPOINT) {
      if (JSON.stringify(meta.config[field]) !== JSON.stringify(config[field])) {
        throw new Error(`${join(config.outDir, 'checkpoint.json')}: ${field} is ${JSON.stringify(meta.config[field])} there and ${JSON.stringify(config[field])} now`);
      }
    }
    ({ step, next, records, epochSums: sums } = meta);
    adam.restoreScalars(meta.adam);
    log(`[adl] resuming at step ${step} (epoch ${next.epoch}, batch ${next.batch})`);
  }

  const checkpoint = () =>
    saveCheckpoint<CheckpointMeta>(config.outDir, groups, { config, step, next, adam: adam.stateScalars(), records, epochSums: sums }, String(step));
  const total = config.epochs * stepsPerEpoch;
  const progress = options.progress === false ? undefined : createProgress('search', total, step);
  const ctx = { training: true, kernels };
  let interrupted = false;
  try {
    outer: for (let epoch = next.epoch; epoch < config.epochs; epoch++) {
      const epochStarted = performance.now();
      const learningRate = cosineLr(epoch, config.epochs, config.weights.lrMax, config.weights.lrMin);
      const searching = epoch >= config.warmupEpochs;
      for (let batch = epoch === next.epoch ? next.batch : 0; batch < stepsPerEpoch; batch++) {
        const stepStarted = performance.now();
        const position = { epoch, batch };
        const [batchA, batchB] = await Promise.all([loaderA.load(position), searching ? loaderB.load(position) : undefined]);
        const where = `epoch ${epoch} batch ${batch} (step ${step + 1})`;
        const a = batchTensors(batchA);
        const weightLoss = trainStep(net, weights, sgd, a.images, a.labels, learningRate, ctx, `${where}, weight step`);
        sums.weightLoss += weightLoss;
        sums.weightSteps++;
        tf.dispose([a.images, a.labels]);
        let served: SearchStep = { step: step + 1, epoch, batch, weightImages: batchA.names, weightLearningRate: learningRate, weightLoss };
        if (batchB) {
          const b = batchTensors(batchB);
          const architectureLoss = trainStep(net, architecture, adam, b.images, b.labels, config.architecture.lr, ctx, `${where}, architecture step`);
          sums.architectureLoss += architectureLoss;
          sums.architectureSteps++;
          tf.dispose([b.images, b.labels]);
          served = { ...served, architectureImages: batchB.names, architectureLearningRate: config.architecture.lr, architectureLoss };
        }
        step++;
        next = batch + 1 < stepsPerEpoch ? { epoch, batch: batch + 1 } : { epoch: epoch + 1, batch: 0 };
        const imagesPerSecond = (config.batchSize * (batchB ? 2 : 1)) / ((performance.now() - stepStarted) / 1000);
        progress?.update({ step, epoch, loss: sums.weightLoss / sums.weightSteps, imagesPerSecond });
        options.onStep?.(served);
        const endOfEpoch = next.batch === 0;
        if (!endOfEpoch && step % config.checkpointEvery === 0) await checkpoint();
        if (!endOfEpoch && step === options.stopAfterSteps) {
          interrupted = true;
          break outer;
        }
      }
      const metrics = val.length ? (await evaluateSamples(net, val, { kernels, numClasses: config.numClasses })).metrics : undefined;
      const { alpha, beta } = await architectureValues(net);
      const { genotype, path, pathLogProb } = decodeArchitecture(alpha, beta, { blocks: config.blocks, ops: PRIMITIVES });
      const record: EpochRecord = {
        epoch,
        learningRate,
        weightLoss: sums.weightLoss / Math.max(sums.weightSteps, 1),
        architectureLoss: sums.architectureSteps ? sums.architectureLoss / sums.architectureSteps : null,
        valMiou: metrics ? metrics.miou : null,
        valPixelAccuracy: metrics ? metrics.pixelAccuracy : null,
        genotype,
        path,
        pathLogProb,
        seconds: (performance.now() - epochStarted) / 1000,
      };
      records = [...records, record];
      sums = { weightLoss: 0, architectureLoss: 0, weightSteps: 0, architectureSteps: 0 };
      await writeFileAtomic(join(config.outDir, 'alpha-beta', `epoch-${String(epoch).padStart(3, '0')}.json`), `${JSON.stringify({ epoch, ops: PRIMITIVES, alpha, beta })}\n`);
      await writeFileAtomic(join(config.outDir, 'search-log.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      await checkpoint();
      if (step === options.stopAfterSteps) {
        interrupted = epoch + 1 < config.epochs;
        if (interrupted) break;
      }
    }
  } finally {
    progress?.stop();
  }

  const { alpha, beta } = await architectureValues(net);
  let found: Architecture | undefined;
  if (!interrupted) {
    const last = records[records.length - 1];
    found = { name: 'searched', path: last.path, genotype: last.genotype, filterMultiplier: config.retrainFilterMultiplier };
    await writeFileAtomic(join(config.outDir, 'architecture.json'), `${JSON.stringify(found, null, 2)}\n`);
  }
  sgd.dispose();
  adam.dispose();
  net.dispose();
  return { architecture: found, records, steps: step, interrupted, alpha, beta };
}

async function architectureValues(net: SuperNet): Promise<{ alpha: number[][]; beta: number[][][] }> {
  return { alpha: (await net.alpha.array()) as number[][], beta: (await net.beta.array()) as number[][][] };
}
