import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { evaluateSamples } from '@adl/eval';
import { BatchLoader, DEFAULT_AUGMENT, listSplit, writeFileAtomic, type LoaderPosition } from '@adl/data-cityscapes';
import { FixedNet, getPreset, PRESET_NAMES, readArchitectureFile, type Architecture } from '@adl/trellis';
import { batchTensors } from './batch-tensors.js';
import { selectInstalledBackend } from './installed-backend.js';
import { readCheckpointManifest, restoreCheckpoint, saveCheckpoint, type VariableGroups } from './checkpoint.js';
import type { TrainedNetSpec } from './load-trained-net.js';
import { SgdMomentum } from './optimizers.js';
import { createProgress } from './progress.js';
import { parseRetrainConfig, type RetrainConfig, type RetrainConfigInput } from './retrain-config.js';
import { polyLr } from './schedules.js';
import { trainStep } from './train-step.js';

/** One line of `retrain-log.jsonl`. */
export interface EvaluationRecord {
  readonly iteration: number;
  readonly learningRate: number;
  readonly trainLoss: number;
  readonly valMiou: number;
  readonly valPixelAccuracy: number;
  readonly valIou: number[];
}

export interface RetrainResult {
  readonly architecture: Architecture;
  readonly records: EvaluationRecord[];
  readonly best: EvaluationRecord | undefined;
  readonly iterations: number;
}

interface RetrainMeta {
  readonly net: TrainedNetSpec;
  readonly iteration: number;
  readonly records: EvaluationRecord[];
  readonly lossSum: number;
  readonly lossCount: number;
}

/** A preset name or an architecture JSON file. */
export async function resolveArchitecture(reference: string): Promise<Architecture> {
  return (PRESET_NAMES as readonly string[]).includes(reference) ? getPreset(reference) : readArchitectureFile(reference);
}

/**
 * Trains the fixed network of an architecture (SPEC §7): SGD with momentum and a poly schedule,
 * evaluation on the validation split every `evalEvery` iterations, the best weights kept in
 * `outDir/best/`, resumable checkpoints in `outDir/`.
 */
export async function retrain(input: RetrainConfigInput, options: { resume?: boolean; log?: (line: string) => void; progress?: boolean; stopAfterIterations?: number } = {}): Promise<RetrainResult> {
  const config: RetrainConfig = parseRetrainConfig(input);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { kernels } = await selectInstalledBackend({ backend: config.backend, log });
  const found = await resolveArchitecture(config.architecture);
  const architecture = { ...found, filterMultiplier: config.filterMultiplier ?? found.filterMultiplier };
  const train = await listSplit(config.dataRoot, 'train');
  const allVal = await listSplit(config.dataRoot, 'val');
  const val = config.valImages ? allVal.slice(0, config.valImages) : allVal;
  const loader = new BatchLoader({
    samples: train,
    batchSize: config.batchSize,
    seed: config.seed,
    prefetch: 0,
    onBadFile: config.onBadFile,
    augment: { ...DEFAULT_AUGMENT, crop: [config.crop, config.crop], scale: config.scale },
  });
  const spec: TrainedNetSpec = { architecture, numClasses: config.numClasses, asppChannels: config.asppChannels, asppRates: config.asppRates };
  const net = new FixedNet({ architecture, numClasses: config.numClasses, asppChannels: config.asppChannels, asppRates: config.asppRates, seed: config.seed });
  const variables = net.trainableVariables();
  const sgd = new SgdMomentum(variables, config.momentum, config.weightDecay);
  const groups: VariableGroups = { weights: variables, batchNorm: net.stateVariables(), sgd: sgd.stateVariables() };
  const bestGroups: VariableGroups = { weights: variables, batchNorm: net.stateVariables() };

  let meta: RetrainMeta = { net: spec, iteration: 0, records: [], lossSum: 0, lossCount: 0 };
  if (options.resume && (await readCheckpointManifest(config.outDir))) {
    meta = await restoreCheckpoint<RetrainMeta>(config.outDir, groups);
    log(`[adl] resuming retraining at iteration ${meta.iteration}`);
  }
  let { iteration, records, lossSum, lossCount } = meta;
  const checkpoint = () => saveCheckpoint<RetrainMeta>(config.outDir, groups, { net: spec, iteration, records, lossSum, lossCount }, String(iteration));
  const progress = options.progress === false ? undefined : createProgress('retrain', config.iterations, iteration);
  const ctx = { training: true, kernels };
  try {
    while (iteration < config.iterations) {
      const started = performance.now();
      const position: LoaderPosition = { epoch: Math.floor(iteration / loader.batchesPerEpoch), batch: iteration % loader.batchesPerEpoch };
      const { images, labels } = batchTensors(await loader.load(position));
      const learningRate = polyLr(iteration, config.iterations, config.lr, config.power);
      lossSum += trainStep(net, variables, sgd, images, labels, learningRate, ctx, `iteration ${iteration + 1}`);
      lossCount++;
      tf.dispose([images, labels]);
      iteration++;
      progress?.update({ step: iteration, epoch: position.epoch, loss: lossSum / lossCount, imagesPerSecond: config.batchSize / ((performance.now() - started) / 1000) });
      if (iteration % config.evalEvery === 0 || iteration === config.iterations) {
        const metrics = (await evaluateSamples(net, val, { kernels, numClasses: config.numClasses })).metrics;
        const record: EvaluationRecord = { iteration, learningRate, trainLoss: lossSum / lossCount, valMiou: metrics.miou, valPixelAccuracy: metrics.pixelAccuracy, valIou: metrics.iou };
        const best = records.reduce((top, r) => Math.max(top, r.valMiou), -Infinity);
        records = [...records, record];
        lossSum = 0;
        lossCount = 0;
        if (!(record.valMiou <= best)) await saveCheckpoint(join(config.outDir, 'best'), bestGroups, { net: spec, record }, 'best');
        await writeFileAtomic(join(config.outDir, 'retrain-log.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      }
      if (iteration % config.checkpointEvery === 0 || iteration === config.iterations) await checkpoint();
      if (iteration === options.stopAfterIterations) break;
    }
  } finally {
    progress?.stop();
  }
  await writeFileAtomic(join(config.outDir, 'architecture.json'), `${JSON.stringify(architecture, null, 2)}\n`);
  sgd.dispose();
  net.dispose();
  const best = records.reduce<EvaluationRecord | undefined>((top, r) => (!top || r.valMiou > top.valMiou ? r : top), undefined);
  return { architecture, records, best, iterations: iteration };
}
