import { totalmem } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { evaluateSamples } from '@adl/eval';
import { BatchLoader, DEFAULT_AUGMENT, listSplit, splitFolder, writeFileAtomic, type LoaderPosition } from '@adl/data-cityscapes';
import { FixedNet, fixedNetParameterCount, resolveArchitecture, type Architecture } from '@adl/trellis';
import { levelStride } from '@adl/decode';
import type { ForwardContext } from '@adl/ops';
import { batchTensors } from './batch-tensors.js';
import { computeEnvironment, selectInstalledBackend } from './installed-backend.js';
import { saveCheckpoint } from './checkpoint.js';
import type { TrainedNetSpec } from './load-trained-net.js';
import { SgdMomentum } from './optimizers.js';
import { ConfigError } from './parse-with-schema.js';
import { prepareRunFolder } from './run-folder.js';
import { parseRetrainConfig, type RetrainConfig, type RetrainConfigInput } from './retrain-config.js';
import { assertCropFits } from './search-config.js';
import { logToStderr } from './progress.js';
import { polyLr } from './schedules.js';
import { runTrainingLoop, type RunOptions, type StepOutcome } from './training-loop.js';
import { trainStep } from './train-step.js';
import { checkpointCount, makePlan, median, timeCheckpoint, timeEach, type PlanOptions, type PlanPhase, type RunPlan } from './plan.js';

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
  /** The signal that stopped the retraining after a checkpoint (`STOP_SIGNALS`); resume it. */
  readonly stoppedBy?: NodeJS.Signals;
}

export interface RetrainOptions extends RunOptions {
  /** Stop (as if killed) after this iteration, leaving only what checkpoints wrote. */
  readonly stopAfterIterations?: number;
}

/** The record `best/` holds: the highest validation mIoU, the earliest of equals (a later tie does not replace it). */
export function bestRecord(records: readonly EvaluationRecord[]): EvaluationRecord | undefined {
  return records.reduce<EvaluationRecord | undefined>((top, r) => (!top || r.valMiou > top.valMiou ? r : top), undefined);
}

/** Retraining's part of each checkpoint: its evaluations and the loss sum since the last one. */
interface RetrainState {
  readonly records: EvaluationRecord[];
  readonly lossSum: number;
  readonly lossCount: number;
}

/**
 * Settings a resumed retraining may change: where files go and how, not what the steps compute
 * (`recompute` changes memory and time, and the results only by the order of float sums, as in search).
 */
const FREE_ON_RESUME = ['outDir', 'checkpointEvery', 'keepCheckpoints', 'backend', 'onBadFile', 'recompute'];

/**
 * Trains the fixed network of an architecture (design §7): SGD with momentum and a poly schedule,
 * evaluation on the validation split every `evalEvery` iterations, the best weights kept in
 * `outDir/best/`, resumable checkpoints in `outDir/`.
 */
export async function retrain(input: RetrainConfigInput, options: RetrainOptions = {}): Promise<RetrainResult> {
  const config: RetrainConfig = parseRetrainConfig(input);
  const log = options.log ?? logToStderr;
  const data = await retrainData(config);
  await prepareRunFolder(config.outDir, { resume: options.resume, force: options.force, log });
  const { architecture, backend, kernels, loader, spec, net, variables, sgd, step } = await prepareRetrain(config, data, log);
  const { val } = data;

  const runStep = async (iteration: number, state: RetrainState): Promise<StepOutcome<RetrainState>> => {
    const started = performance.now();
    const loss = await step(iteration);
    const next = { ...state, lossSum: state.lossSum + loss, lossCount: state.lossCount + 1 };
    const epoch = Math.floor(iteration / loader.batchesPerEpoch);
    return { state: next, loss, progress: { epoch, loss: next.lossSum / next.lossCount, imagesPerSecond: config.batchSize / ((performance.now() - started) / 1000) } };
  };

  /** Every `evalEvery` iterations and at the last: validation, the log, and `best/` when it improved. */
  const afterStep = async (iteration: number, { records, lossSum, lossCount }: RetrainState): Promise<RetrainState | undefined> => {
    if (iteration % config.evalEvery !== 0 && iteration !== config.iterations) return undefined;
    const { metrics } = await evaluateSamples(net, val, { kernels, numClasses: config.numClasses });
    const learningRate = polyLr(iteration - 1, config.iterations, config.lr, config.power);
    const record: EvaluationRecord = { iteration, learningRate, trainLoss: lossSum / lossCount, valMiou: metrics.miou, valPixelAccuracy: metrics.pixelAccuracy, valIou: metrics.iou };
    const next = [...records, record];
    if (bestRecord(next) === record) await saveCheckpoint(join(config.outDir, 'best'), { weights: variables, batchNorm: net.stateVariables() }, { net: spec, record }, 'best');
    await writeFileAtomic(join(config.outDir, 'retrain-log.jsonl'), next.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return { records: next, lossSum: 0, lossCount: 0 };
  };

  const loop = await runTrainingLoop<RetrainState>({
    name: 'retrain',
    outDir: config.outDir,
    groups: { weights: variables, batchNorm: net.stateVariables(), sgd: sgd.stateVariables() },
    totalSteps: config.iterations,
    checkpointEvery: config.checkpointEvery,
    keepCheckpoints: config.keepCheckpoints,
    config,
    meta: { net: spec },
    environment: await computeEnvironment({ backend, kernels }),
    freeOnResume: FREE_ON_RESUME,
    acceptChanges: options.acceptChanges,
    initialState: { records: [], lossSum: 0, lossCount: 0 },
    resume: options.resume,
    stopAfterSteps: options.stopAfterIterations,
    progress: options.progress,
    log,
    runStep,
    afterStep,
  });
  const { records } = loop.state;
  const iteration = loop.steps;
  await writeFileAtomic(join(config.outDir, 'architecture.json'), `${JSON.stringify(architecture, null, 2)}\n`);
  sgd.dispose();
  net.dispose();
  return { architecture, records, best: bestRecord(records), iterations: iteration, stoppedBy: loop.stoppedBy };
}

/** The architecture (a preset or file, at the configured width) and the train and validation images. */
async function retrainData(config: RetrainConfig) {
  const found = await resolveArchitecture(config.architecture);
  const architecture = { ...found, filterMultiplier: config.filterMultiplier ?? found.filterMultiplier };
  assertCropFits(config.crop, levelStride(Math.max(...architecture.path)), `the path's deepest level, ${Math.max(...architecture.path)}`);
  const train = await listSplit(config.dataRoot, 'train');
  const allVal = await listSplit(config.dataRoot, 'val');
  const val = config.valImages ? allVal.slice(0, config.valImages) : allVal;
  if (train.length < config.batchSize) throw new ConfigError(`${splitFolder(config.dataRoot, 'train')}: ${train.length} image(s), fewer than one batch of ${config.batchSize}`);
  if (val.length === 0) throw new ConfigError(`${splitFolder(config.dataRoot, 'val')}: no images; retraining keeps best/ by the validation mIoU`);
  return { architecture, train, val };
}

/** Refuses, before the network is built, a width whose weights, gradients and SGD velocities (three float32 copies) exceed this machine's memory. */
function assertWeightsFit(config: RetrainConfig, architecture: Architecture): void {
  const params = fixedNetParameterCount({ architecture, numClasses: config.numClasses, asppChannels: config.asppChannels, asppRates: config.asppRates });
  const bytes = 3 * 4 * params;
  if (bytes > totalmem()) {
    const gb = (n: number) => (n / 2 ** 30 >= 100 ? (n / 2 ** 30).toExponential(2) : (n / 2 ** 30).toFixed(1));
    throw new ConfigError(`filterMultiplier ${architecture.filterMultiplier}: the network would hold ${params.toExponential(2)} parameters; its weights, gradients and velocities need ${gb(bytes)} GB, this machine has ${gb(totalmem())} GB`);
  }
}

/** The step's context with scheduled drop path when the config asks for it (its masks depend only on seed and iteration). */
function withDropPath(ctx: ForwardContext, config: RetrainConfig, iteration: number): ForwardContext {
  if (config.dropPathKeepProb >= 1) return ctx;
  return { ...ctx, dropPath: { keepProb: config.dropPathKeepProb, progress: iteration / config.iterations, seed: (config.seed * 0x9e3779b1 + iteration) >>> 0 } };
}

/** What a retraining and its plan share: the backend, the loader, the network, SGD, and `step(iteration)`, one training step returning its loss. */
async function prepareRetrain(config: RetrainConfig, { architecture, train }: Awaited<ReturnType<typeof retrainData>>, log: (line: string) => void) {
  const { backend, kernels } = await selectInstalledBackend({ backend: config.backend, log });
  const loader = new BatchLoader({
    samples: train,
    batchSize: config.batchSize,
    seed: config.seed,
    prefetch: 0,
    onBadFile: config.onBadFile,
    augment: { ...DEFAULT_AUGMENT, crop: [config.crop, config.crop], scale: config.scale },
  });
  assertWeightsFit(config, architecture);
  const batchNorm = { momentum: 1 - config.batchNormDecay, epsilon: config.batchNormEpsilon };
  const spec: TrainedNetSpec = { architecture, numClasses: config.numClasses, asppChannels: config.asppChannels, asppRates: config.asppRates, batchNorm };
  const net = new FixedNet({ architecture, numClasses: config.numClasses, asppChannels: config.asppChannels, asppRates: config.asppRates, batchNorm, recompute: config.recompute, seed: config.seed });
  const variables = net.trainableVariables();
  const sgd = new SgdMomentum(variables, config.momentum, config.weightDecay);
  const ctx = { training: true, kernels };
  const step = async (iteration: number): Promise<number> => {
    const position: LoaderPosition = { epoch: Math.floor(iteration / loader.batchesPerEpoch), batch: iteration % loader.batchesPerEpoch };
    const { images, labels } = batchTensors(await loader.load(position));
    const learningRate = polyLr(iteration, config.iterations, config.lr, config.power);
    const loss = await trainStep(net, variables, sgd, images, labels, learningRate, withDropPath(ctx, config, iteration), `iteration ${iteration + 1}`);
    tf.dispose([images, labels]);
    return loss;
  };
  return { architecture, backend, kernels, loader, spec, net, variables, sgd, step };
}

/**
 * Times the retraining `input` describes without writing anything: its set-up, `steps` training steps
 * after one untimed step, and one validation pass; estimates the whole run from them.
 */
export async function planRetrain(input: RetrainConfigInput, options: PlanOptions = {}): Promise<RunPlan> {
  const config: RetrainConfig = parseRetrainConfig(input);
  const log = options.log ?? logToStderr;
  const count = options.steps ?? 2;
  const started = options.since ?? performance.now();
  const data = await retrainData(config);
  const setup = await prepareRetrain(config, data, log);
  const setupSeconds = (performance.now() - started) / 1000;
  await setup.step(0);
  const seconds = await timeEach(count, (i) => setup.step((1 + i) % config.iterations));
  const phases: PlanPhase[] = [{ name: 'training steps', steps: config.iterations, secondsPerStep: median(seconds), timedSteps: count }];
  const [evaluationSeconds] = await timeEach(1, () => evaluateSamples(setup.net, data.val, { kernels: setup.kernels, numClasses: config.numClasses }));
  const evaluations = { count: Math.ceil(config.iterations / config.evalEvery), secondsEach: evaluationSeconds };
  const checkpointSeconds = await timeCheckpoint({ weights: setup.variables, batchNorm: setup.net.stateVariables(), sgd: setup.sgd.stateVariables() });
  const bestSeconds = await timeCheckpoint({ weights: setup.variables, batchNorm: setup.net.stateVariables() });
  const evaluated = (iteration: number) => iteration % config.evalEvery === 0 || iteration === config.iterations;
  const own = checkpointCount(config.iterations, config.checkpointEvery, evaluated);
  // The run's own checkpoints, and best/ (weights only) counted at every validation: their mean time.
  const checkpoints = { count: own + evaluations.count, secondsEach: (own * checkpointSeconds + evaluations.count * bestSeconds) / (own + evaluations.count) };
  const plan = makePlan({ what: 'retrain', backend: setup.backend, setupSeconds, phases, evaluations, checkpoints, stepsPerEpoch: setup.loader.batchesPerEpoch });
  setup.sgd.dispose();
  setup.net.dispose();
  return plan;
}
