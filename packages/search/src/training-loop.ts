import { join } from 'node:path';
import { writeFileAtomic } from '@adl/data-cityscapes';
import { CheckpointError, CHECKPOINT_MANIFEST, keptManifestName, NonFiniteValueError, readCheckpointManifest, restoreCheckpoint, restoreKeptCheckpoint, saveCheckpoint, type VariableGroups } from './checkpoint.js';
import { DivergenceError, NonFiniteLossError } from './train-step.js';
import { createProgress, type Progress, type ProgressUpdate } from './progress.js';

/**
 * Signals that stop a run after its current step, with a checkpoint: a scheduler's notice of
 * preemption or of the time limit (Slurm `--signal=B:USR1@300`, Kubernetes' SIGTERM), or Ctrl-C. A
 * second one stops at once.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGUSR1'];

/** The exit status of a run stopped by a signal with a checkpoint to resume from (sysexits' EX_TEMPFAIL). */
export const EXIT_INTERRUPTED = 75;

/**
 * A checkpoint is good when the step after it had a finite loss of at most this many times the
 * running loss, plus `SANE_LOSS_MARGIN` (cross-entropy, nats): a run that diverges names the newest
 * good one and resumes from it.
 */
export const SANE_LOSS_FACTOR = 10;
export const SANE_LOSS_MARGIN = 1;

/** The running loss: an exponential moving average of the steps' losses with this decay. */
const RUNNING_LOSS_DECAY = 0.9;

/** What one step reports: its loop state afterwards and the figures of the progress line. */
export interface StepOutcome<State> {
  readonly state: State;
  /** The step's training loss (before its update): it tells whether the checkpoint before the step was good. */
  readonly loss: number;
  readonly progress: Omit<ProgressUpdate, 'step'>;
}

/** What search and retraining take besides their config. */
export interface RunOptions {
  /** Continue from `outDir/checkpoint.json`. */
  readonly resume?: boolean;
  /** Resume even where settings that change the result differ from the checkpoint's, saying which. */
  readonly acceptChanges?: boolean;
  /** Empty an output folder that holds another run instead of refusing it. */
  readonly force?: boolean;
  readonly log?: (line: string) => void;
  /** false: none; a `Progress`: where the figures go; default: a bar on a terminal, plain lines elsewhere. */
  readonly progress?: boolean | Progress;
}

export interface TrainingLoopOptions<State> {
  /** The progress bar's label. */
  readonly name: string;
  /** Where the checkpoint is written (and read on resume). */
  readonly outDir: string;
  /** Every variable the run changes: weights, BN statistics, α/β, optimizer state. */
  readonly groups: VariableGroups;
  readonly totalSteps: number;
  /** A checkpoint before the first step, after every this many steps, after every evaluation and after the last step. */
  readonly checkpointEvery: number;
  /** Checkpoints kept on disk: the newest this many, and the newest good one (default 1). */
  readonly keepCheckpoints?: number;
  /** The run's settings, saved with each checkpoint. */
  readonly config: Readonly<Record<string, unknown>>;
  /**
   * Settings that may differ when resuming (where files go, how often to checkpoint, the backend);
   * any other difference changes the result and is refused unless `acceptChanges`.
   */
  readonly freeOnResume: readonly string[];
  /** Resume even with changed settings (after a divergence: a lower learning rate), saying which. */
  readonly acceptChanges?: boolean;
  /** The loop's own state at step 0: plain data (records, running sums), saved with each checkpoint. */
  readonly initialState: State;
  /** More plain data saved with each checkpoint for its readers (retraining: the net's spec). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /**
   * Where the run computes (backend, kernels, threads): saved with each checkpoint. Resuming elsewhere
   * is allowed, with a warning: the sums then run in another order, so the results differ in the last
   * bits from an uninterrupted run.
   */
  readonly environment?: Readonly<Record<string, unknown>>;
  /** Optimizer scalars (Adam's step count) saved beside the tensors. */
  readonly scalars?: { save(): Record<string, number>; restore(values: Record<string, number>): void };
  /** Continue from the checkpoint in `outDir`, if there is one. */
  readonly resume?: boolean;
  /** Stop (as if killed) after this step, leaving only what checkpoints wrote. */
  readonly stopAfterSteps?: number;
  /** false: none; a `Progress`: where the figures go; default: a bar on a terminal, plain lines elsewhere. */
  readonly progress?: boolean | Progress;
  readonly log: (line: string) => void;
  /** Runs step `step` (from 0). */
  runStep(step: number, state: State): Promise<StepOutcome<State>>;
  /** After `steps` steps: evaluation, logs and snapshots where due; returns the new state, or undefined if nothing was due. */
  afterStep(steps: number, state: State): Promise<State | undefined>;
}

export interface TrainingLoopResult<State> {
  /** Steps done, counting those of an earlier run it resumed. */
  readonly steps: number;
  readonly state: State;
  /** Stopped before the last step: by `stopAfterSteps`, or by one of `STOP_SIGNALS`. */
  readonly interrupted: boolean;
  /** The signal that stopped it (after a checkpoint of the last step done). */
  readonly stoppedBy?: NodeJS.Signals;
  /** Wall time of the run's steps, evaluations and checkpoints, its resumed parts included. */
  readonly seconds: number;
}

interface LoopMeta<State> {
  readonly config: Readonly<Record<string, unknown>>;
  readonly environment?: Readonly<Record<string, unknown>>;
  readonly step: number;
  readonly state: State;
  readonly scalars: Record<string, number>;
  /** Wall time of the steps, evaluations and checkpoints so far, over every resumed part of the run. */
  readonly seconds?: number;
  /** The running loss of the steps so far (`RUNNING_LOSS_DECAY`). */
  readonly runningLoss?: number;
  /** The newest checkpoint known to be good: the step after it had a sane loss (`SANE_LOSS_FACTOR`). */
  readonly good?: { readonly step: number; readonly nextLoss: number };
  /** Steps of the checkpoints kept on disk (`keepCheckpoints`), this one's included. */
  readonly kept?: readonly number[];
}

/**
 * The resumable training loop of search and retraining: steps from where the checkpoint left off,
 * a progress line, evaluation when due, and a checkpoint of every variable and of the loop's state
 * before the first step, after every `checkpointEvery` steps, every evaluation and the last step, so
 * a run killed at any point resumes exactly (same batches, same results). A checkpoint is good once
 * the step after it had a sane loss; the newest `keepCheckpoints` and the newest good one stay on
 * disk, and a run that diverges makes the newest good one current again, to resume from.
 */
export async function runTrainingLoop<State>(options: TrainingLoopOptions<State>): Promise<TrainingLoopResult<State>> {
  const { outDir, groups, totalSteps, checkpointEvery, config } = options;
  const keep = options.keepCheckpoints ?? 1;
  const where = join(outDir, CHECKPOINT_MANIFEST);
  let step = 0;
  let state = options.initialState;
  let secondsBefore = 0;
  let runningLoss: number | undefined;
  let good: LoopMeta<State>['good'];
  let kept: readonly number[] = [];
  const manifest = options.resume ? await readCheckpointManifest<LoopMeta<State>>(outDir) : undefined;
  if (manifest) {
    // Settings first: a changed one (a network of another shape, say) is named before any tensor is read.
    if (manifest.meta?.state === undefined) throw new CheckpointError(`${where}: written by an earlier version of @adl/search; start a new run`);
    const changed = changedSettings(manifest.meta.config, config, options.freeOnResume);
    if (changed.length && !options.acceptChanges) {
      throw new CheckpointError(`${where}: ${changed.join('; ')}; these change the result: resume with the checkpoint's values, or pass --accept-changes to continue with the new ones`);
    }
    const meta = await restoreCheckpoint<LoopMeta<State>>(outDir, groups);
    for (const change of changed) options.log(`[adl] warning: resuming with a changed setting: ${change}`);
    const moved = manifest.meta.environment ? changedSettings(manifest.meta.environment, options.environment ?? {}, []) : [];
    if (moved.length) options.log(`[adl] warning: resuming on another setup (${moved.join('; ')}): results will differ in the last bits from an uninterrupted run`);
    ({ step, state, runningLoss, good } = meta);
    kept = meta.kept ?? [];
    // A checkpoint written before checkpoints were kept: keep it too, so a divergence can go back to it.
    if (!kept.includes(step)) {
      await writeFileAtomic(join(outDir, keptManifestName(String(step))), `${JSON.stringify(manifest)}\n`);
      kept = [...kept, step];
    }
    secondsBefore = meta.seconds ?? 0;
    options.scalars?.restore(meta.scalars);
    options.log(`[adl] resuming ${options.name} at step ${step}`);
  }
  let lastCheckpoint = manifest ? step : undefined;
  const started = performance.now();
  const seconds = () => secondsBefore + (performance.now() - started) / 1000;
  const checkpoint = async () => {
    const newest = [...kept.filter((s) => s < step), step].slice(-keep);
    const keeping = good === undefined || newest.includes(good.step) ? newest : [good.step, ...newest];
    const meta: LoopMeta<State> = { config, environment: options.environment, step, state, scalars: options.scalars?.save() ?? {}, seconds: seconds(), runningLoss, good, kept: keeping };
    await saveCheckpoint<LoopMeta<State>>(outDir, groups, { ...options.meta, ...meta }, String(step), { keep: keeping.map(String) });
    kept = keeping;
    lastCheckpoint = step;
  };
  /** The step being run (from 1): a divergence names it. */
  let running = step + 1;
  const progress = typeof options.progress === 'object' ? options.progress : options.progress === false ? undefined : createProgress(options.name, totalSteps, step);
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy === undefined) {
      stoppedBy = signal;
      return;
    }
    // A second signal: the default action, at once.
    for (const name of STOP_SIGNALS) process.removeListener(name, onSignal);
    process.kill(process.pid, signal);
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  try {
    // The starting point is a checkpoint too: a run that diverges in its first steps goes back to it.
    if (lastCheckpoint === undefined && step < totalSteps) await checkpoint();
    while (step < totalSteps) {
      running = step + 1;
      const outcome = await options.runStep(step, state);
      if (lastCheckpoint === step && isSane(outcome.loss, runningLoss)) good = { step, nextLoss: outcome.loss };
      runningLoss = runningLoss === undefined ? outcome.loss : RUNNING_LOSS_DECAY * runningLoss + (1 - RUNNING_LOSS_DECAY) * outcome.loss;
      state = outcome.state;
      step++;
      progress?.update({ step, ...outcome.progress });
      const evaluated = await options.afterStep(step, state);
      if (evaluated !== undefined) state = evaluated;
      if (evaluated !== undefined || step % checkpointEvery === 0 || step === totalSteps) await checkpoint();
      if (step === options.stopAfterSteps) break;
      if (stoppedBy !== undefined && step < totalSteps) {
        if (lastCheckpoint !== step) await checkpoint();
        progress?.stop();
        options.log(`[adl] ${stoppedBy}: stopped after step ${step} of ${totalSteps} with a checkpoint (${where}); continue with --resume`);
        break;
      }
    }
  } catch (error) {
    if (!(error instanceof NonFiniteLossError || error instanceof NonFiniteValueError)) throw error;
    throw new DivergenceError(`${options.name} diverged at step ${running}: ${error.message}; nothing of that step was saved; ${await goBackTo(good, lastCheckpoint)}`, { cause: error });
  } finally {
    for (const name of STOP_SIGNALS) process.removeListener(name, onSignal);
    progress?.stop();
  }
  return { steps: step, state, interrupted: step < totalSteps, seconds: seconds(), ...(stoppedBy ? { stoppedBy } : {}) };

  /** After a divergence: makes the newest good checkpoint current again and says so, or says that none is. */
  async function goBackTo(last: LoopMeta<State>['good'], current: number | undefined): Promise<string> {
    if (last === undefined) return 'no checkpoint of this run was followed by a sane step: start again with a lower learning rate';
    if (last.step !== current) await restoreKeptCheckpoint(outDir, String(last.step));
    const again = last.step === current ? '' : ', current again';
    return `the last good checkpoint is ${where} (step ${last.step}${again}; the next step's loss was ${last.nextLoss.toPrecision(4)}): resume from it with a lower learning rate (--resume --accept-changes)`;
  }
}

/** A loss that says the weights it was computed with were sane: finite and within `SANE_LOSS_FACTOR` of the running loss. */
function isSane(loss: number, runningLoss: number | undefined): boolean {
  return Number.isFinite(loss) && (runningLoss === undefined || loss <= SANE_LOSS_FACTOR * runningLoss + SANE_LOSS_MARGIN);
}

/** `field: before → now` for each setting that differs, other than the free ones. */
function changedSettings(before: Readonly<Record<string, unknown>>, now: Readonly<Record<string, unknown>>, free: readonly string[]): string[] {
  const fields = [...new Set([...Object.keys(before), ...Object.keys(now)])].filter((field) => !free.includes(field));
  return fields.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(now[field])).map((field) => `${field} is ${JSON.stringify(before[field])} there and ${JSON.stringify(now[field])} now`);
}
