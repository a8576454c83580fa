import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { evaluateSamples } from '@adl/eval';
import { BatchLoader, DEFAULT_AUGMENT, listSplit, splitFolder, splitTrainAB, writeFileAtomic } from '@adl/data-cityscapes';
import { decodeArchitecture, LEVELS, levelStride, type GenotypeEdge } from '@adl/decode';
import { PRIMITIVES } from '@adl/ops';
import { SuperNet, type Architecture, type SuperNetOptions } from '@adl/trellis';
import { batchTensors } from './batch-tensors.js';
import { computeEnvironment, selectInstalledBackend } from './installed-backend.js';
import { ConfigError } from './parse-with-schema.js';
import { prepareRunFolder } from './run-folder.js';
import { assertCropFits, parseSearchConfig, type SearchConfig, type SearchConfigInput } from './search-config.js';
import { Adam, SgdMomentum } from './optimizers.js';
import { upgradePerEdgeCheckpoint, type SearchGroups } from './per-edge-checkpoint.js';
import { logToStderr } from './progress.js';
import { cosineLr } from './schedules.js';
import { runTrainingLoop, type RunOptions, type StepOutcome } from './training-loop.js';
import { trainStep } from './train-step.js';
import { checkpointCount, makePlan, median, timeCheckpoint, timeEach, type PlanOptions, type PlanPhase, type RunPlan } from './plan.js';

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

export interface SearchOptions extends RunOptions {
  /** Stop (as if killed) after this global step, leaving only what checkpoints wrote. */
  readonly stopAfterSteps?: number;
  /** Called after every step with what it trained on (for monitoring; tests check the tensor count here). */
  readonly onStep?: (info: SearchStep) => void;
}

export interface SearchResult {
  readonly architecture: Architecture | undefined;
  readonly records: EpochRecord[];
  readonly steps: number;
  readonly interrupted: boolean;
  /** The signal that stopped the search after a checkpoint (`STOP_SIGNALS`); resume it. */
  readonly stoppedBy?: NodeJS.Signals;
  /** Final α [edges, 8] and β [L, 4, 3]. */
  readonly alpha: number[][];
  readonly beta: number[][][];
}

/** The search's part of each checkpoint: its records and this epoch's running loss sums. */
interface SearchState {
  readonly records: EpochRecord[];
  readonly sums: EpochSums;
}

interface EpochSums {
  readonly weightLoss: number;
  readonly architectureLoss: number;
  readonly weightSteps: number;
  readonly architectureSteps: number;
}

const NO_SUMS: EpochSums = { weightLoss: 0, architectureLoss: 0, weightSteps: 0, architectureSteps: 0 };

/** |α| or |β| beyond this: their float32 softmax is exactly one-hot long before, so the architecture is frozen. */
const ARCHITECTURE_WARNING = 1000;

/** Settings a resumed search may change: where files go and how, not what the steps compute. */
const FREE_ON_RESUME = ['outDir', 'checkpointEvery', 'keepCheckpoints', 'backend', 'onBadFile', 'recompute', 'retrainFilterMultiplier'];

/**
 * Auto-DeepLab architecture search (design §5). Each step: an SGD step on the weights with a trainA
 * batch; after the warm-up epochs, an Adam step on α and β with a trainB batch (first order, at the
 * current weights). After each epoch: validation on a held-out slice, the decoded architecture,
 * a line in `search-log.jsonl`, an α/β snapshot, and a checkpoint; at the end, `architecture.json`.
 */
export async function search(input: SearchConfigInput, options: SearchOptions = {}): Promise<SearchResult> {
  const config = parseSearchConfig(input);
  const log = options.log ?? logToStderr;
  const data = await searchData(config);
  await prepareRunFolder(config.outDir, { resume: options.resume, force: options.force, log });
  const { backend, net, netOptions, groups, sgd, adam, kernels, stepsPerEpoch, learningRateOf, step } = await prepareSearch(config, data, log);
  if (options.resume) await upgradePerEdgeCheckpoint(config.outDir, net, netOptions, groups, log);
  const { val } = data;
  let epochStarted = performance.now();

  const runStep = async (index: number, { records, sums }: SearchState): Promise<StepOutcome<SearchState>> => {
    const started = performance.now();
    if (index % stepsPerEpoch === 0) epochStarted = started;
    const served = await step(index);
    let next: EpochSums = { ...sums, weightLoss: sums.weightLoss + served.weightLoss, weightSteps: sums.weightSteps + 1 };
    if (served.architectureLoss !== undefined) {
      next = { ...next, architectureLoss: next.architectureLoss + served.architectureLoss, architectureSteps: next.architectureSteps + 1 };
    }
    options.onStep?.(served);
    const images = config.batchSize * (served.architectureLoss !== undefined ? 2 : 1);
    return { state: { records, sums: next }, loss: served.weightLoss, progress: { epoch: served.epoch, loss: next.weightLoss / next.weightSteps, imagesPerSecond: images / ((performance.now() - started) / 1000) } };
  };

  /** At the end of an epoch: validation, the decoded architecture, the log line and the α/β snapshot. */
  const afterStep = async (steps: number, { records, sums }: SearchState): Promise<SearchState | undefined> => {
    if (steps % stepsPerEpoch !== 0) return undefined;
    const epoch = steps / stepsPerEpoch - 1;
    const metrics = val.length ? (await evaluateSamples(net, val, { kernels, numClasses: config.numClasses })).metrics : undefined;
    const { alpha, beta } = await architectureValues(net);
    const largest = Math.max(...[...alpha.flat(), ...beta.flat(2)].map(Math.abs));
    if (largest > ARCHITECTURE_WARNING) {
      log(`[adl] warning: epoch ${epoch}: |α|, |β| reach ${largest.toExponential(1)}: their softmax is saturated and the architecture no longer moves; the α/β learning rate (${config.architecture.lr}) is likely too high`);
    }
    const { genotype, path, pathLogProb } = decodeArchitecture(alpha, beta, { blocks: config.blocks, ops: PRIMITIVES });
    const record: EpochRecord = {
      epoch,
      learningRate: learningRateOf(epoch),
      weightLoss: sums.weightLoss / Math.max(sums.weightSteps, 1),
      architectureLoss: sums.architectureSteps ? sums.architectureLoss / sums.architectureSteps : null,
      valMiou: metrics ? metrics.miou : null,
      valPixelAccuracy: metrics ? metrics.pixelAccuracy : null,
      genotype,
      path,
      pathLogProb,
      seconds: (performance.now() - epochStarted) / 1000,
    };
    const next = [...records, record];
    await writeFileAtomic(join(config.outDir, 'alpha-beta', `epoch-${String(epoch).padStart(3, '0')}.json`), `${JSON.stringify({ epoch, ops: PRIMITIVES, alpha, beta })}\n`);
    await writeFileAtomic(join(config.outDir, 'search-log.jsonl'), next.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return { records: next, sums: NO_SUMS };
  };

  const loop = await runTrainingLoop<SearchState>({
    name: 'search',
    outDir: config.outDir,
    groups,
    totalSteps: config.epochs * stepsPerEpoch,
    checkpointEvery: config.checkpointEvery,
    keepCheckpoints: config.keepCheckpoints,
    config,
    environment: await computeEnvironment({ backend, kernels }),
    freeOnResume: FREE_ON_RESUME,
    acceptChanges: options.acceptChanges,
    initialState: { records: [], sums: NO_SUMS },
    scalars: { save: () => adam.stateScalars(), restore: (values) => adam.restoreScalars(values) },
    resume: options.resume,
    stopAfterSteps: options.stopAfterSteps,
    progress: options.progress,
    log,
    runStep,
    afterStep,
  });

  const { records } = loop.state;
  const { alpha, beta } = await architectureValues(net);
  let found: Architecture | undefined;
  if (!loop.interrupted) {
    const last = records[records.length - 1];
    found = { name: 'searched', path: last.path, genotype: last.genotype, filterMultiplier: config.retrainFilterMultiplier };
    await writeFileAtomic(join(config.outDir, 'architecture.json'), `${JSON.stringify(found, null, 2)}\n`);
  }
  sgd.dispose();
  adam.dispose();
  net.dispose();
  return { architecture: found, records, steps: loop.steps, interrupted: loop.interrupted, stoppedBy: loop.stoppedBy, alpha, beta };
}

/** The search's images: trainA and trainB (the train split halved) and the held-out validation slice. */
async function searchData(config: SearchConfig) {
  const deepest = Math.min(config.layers, LEVELS - 1);
  assertCropFits(config.crop, levelStride(deepest), `level ${deepest}, the deepest ${config.layers} layer(s) reach`);
  const train = await listSplit(config.dataRoot, 'train');
  const val = config.valImages > 0 ? (await listSplit(config.dataRoot, 'val')).slice(0, config.valImages) : [];
  const { trainA, trainB } = splitTrainAB(train, config.seed);
  if (Math.min(trainA.length, trainB.length) < config.batchSize) {
    throw new ConfigError(`${splitFolder(config.dataRoot, 'train')}: ${train.length} image(s), split into trainA and trainB of ${trainA.length} and ${trainB.length}: fewer than one batch of ${config.batchSize} each`);
  }
  if (config.valImages > 0 && val.length === 0) throw new ConfigError(`${splitFolder(config.dataRoot, 'val')}: no images for valImages ${config.valImages} (0 skips validation)`);
  return { trainA, trainB, val };
}

/** The supernet a search config describes. */
export function superNetOptionsOf(config: SearchConfig): SuperNetOptions {
  return { layers: config.layers, blocks: config.blocks, filterMultiplier: config.filterMultiplier, numClasses: config.numClasses, seed: config.seed, recompute: config.recompute, partialChannels: config.partialChannels, cells: config.cells };
}

/**
 * What a search and its plan share: the backend, the loaders, the supernet and its optimizers, and
 * `step(index)`, one global step (an SGD step on the weights; after the warm-up epochs, an Adam step
 * on α and β too).
 */
async function prepareSearch(config: SearchConfig, { trainA, trainB }: Awaited<ReturnType<typeof searchData>>, log: (line: string) => void) {
  const { backend, kernels } = await selectInstalledBackend({ backend: config.backend, log });
  const augment = { ...DEFAULT_AUGMENT, crop: [config.crop, config.crop] as const, scale: config.scale };
  const loaderOptions = { batchSize: config.batchSize, augment, prefetch: 0, onBadFile: config.onBadFile };
  const loaderA = new BatchLoader({ ...loaderOptions, samples: trainA, seed: config.seed });
  const loaderB = new BatchLoader({ ...loaderOptions, samples: trainB, seed: config.seed + 1 });
  const stepsPerEpoch = Math.min(loaderA.batchesPerEpoch, loaderB.batchesPerEpoch, config.stepsPerEpoch ?? Infinity);
  const netOptions = superNetOptionsOf(config);
  const net = new SuperNet(netOptions);
  const weights = net.weightVariables();
  const architecture = net.architectureVariables();
  const sgd = new SgdMomentum(weights, config.weights.momentum, config.weights.weightDecay);
  const adam = new Adam(architecture, config.architecture.beta1, config.architecture.beta2, config.architecture.weightDecay);
  const groups: SearchGroups = { weights, batchNorm: net.stateVariables(), architecture, sgd: sgd.stateVariables(), adam: adam.stateVariables() };
  const ctx = { training: true, kernels };
  const learningRateOf = (epoch: number) => cosineLr(epoch, config.epochs, config.weights.lrMax, config.weights.lrMin);

  const step = async (index: number): Promise<SearchStep> => {
    const position = { epoch: Math.floor(index / stepsPerEpoch), batch: index % stepsPerEpoch };
    const learningRate = learningRateOf(position.epoch);
    const searching = position.epoch >= config.warmupEpochs;
    const [batchA, batchB] = await Promise.all([loaderA.load(position), searching ? loaderB.load(position) : undefined]);
    const where = `epoch ${position.epoch} batch ${position.batch} (step ${index + 1})`;
    const a = batchTensors(batchA);
    const weightLoss = await trainStep(net, weights, sgd, a.images, a.labels, learningRate, ctx, `${where}, weight step`);
    tf.dispose([a.images, a.labels]);
    const served: SearchStep = { step: index + 1, ...position, weightImages: batchA.names, weightLearningRate: learningRate, weightLoss };
    if (!batchB) return served;
    const b = batchTensors(batchB);
    const architectureLoss = await trainStep(net, architecture, adam, b.images, b.labels, config.architecture.lr, { ...ctx, frozenWeights: true }, `${where}, architecture step`);
    tf.dispose([b.images, b.labels]);
    return { ...served, architectureImages: batchB.names, architectureLearningRate: config.architecture.lr, architectureLoss };
  };
  return { backend, net, netOptions, groups, sgd, adam, kernels, stepsPerEpoch, learningRateOf, step };
}

/**
 * Times the search `input` describes without writing anything: its set-up, `steps` warm-up steps
 * (weights only) and `steps` search steps (weights, then α and β), after one untimed step, and one
 * validation pass; estimates the whole run from them. For deciding, before a run of days, whether the
 * configuration fits the time and memory at hand.
 */
export async function planSearch(input: SearchConfigInput, options: PlanOptions = {}): Promise<RunPlan> {
  const config = parseSearchConfig(input);
  const log = options.log ?? logToStderr;
  const count = options.steps ?? 2;
  const started = options.since ?? performance.now();
  const data = await searchData(config);
  const setup = await prepareSearch(config, data, log);
  const setupSeconds = (performance.now() - started) / 1000;
  const { stepsPerEpoch, net, kernels } = setup;
  const warmupSteps = Math.min(config.warmupEpochs, config.epochs) * stepsPerEpoch;
  const searchSteps = config.epochs * stepsPerEpoch - warmupSteps;
  // Step indices in each phase (their batches and learning rates are as the run's would be there).
  const firstSearchStep = warmupSteps;
  await setup.step(searchSteps > 0 ? firstSearchStep : 0);
  const phases: PlanPhase[] = [];
  if (warmupSteps > 0) {
    const seconds = await timeEach(count, (i) => setup.step(i % warmupSteps));
    phases.push({ name: `warm-up steps (weights; epochs 1–${config.warmupEpochs})`, steps: warmupSteps, secondsPerStep: median(seconds), timedSteps: count });
  }
  if (searchSteps > 0) {
    const seconds = await timeEach(count, (i) => setup.step(firstSearchStep + ((1 + i) % searchSteps)));
    phases.push({ name: `search steps (weights, then α and β; epochs ${config.warmupEpochs + 1}–${config.epochs})`, steps: searchSteps, secondsPerStep: median(seconds), timedSteps: count });
  }
  const [evaluationSeconds] = data.val.length ? await timeEach(1, () => evaluateSamples(net, data.val, { kernels, numClasses: config.numClasses })) : [0];
  const evaluations = { count: data.val.length ? config.epochs : 0, secondsEach: evaluationSeconds };
  const { groups } = setup;
  const checkpoints = {
    count: checkpointCount(config.epochs * stepsPerEpoch, config.checkpointEvery, (step) => step % stepsPerEpoch === 0),
    secondsEach: await timeCheckpoint(groups),
  };
  const plan = makePlan({ what: 'search', backend: setup.backend, setupSeconds, phases, evaluations, checkpoints, stepsPerEpoch });
  setup.sgd.dispose();
  setup.adam.dispose();
  net.dispose();
  return plan;
}

async function architectureValues(net: SuperNet): Promise<{ alpha: number[][]; beta: number[][][] }> {
  return { alpha: (await net.alpha.array()) as number[][], beta: (await net.beta.array()) as number[][][] };
}
