import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DivergenceError, NonFiniteLossError } from './train-step.js';
import { runTrainingLoop, type TrainingLoopOptions } from './training-loop.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-loop-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

interface CountState {
  readonly seen: number[];
  readonly evaluations: number;
}

/** A loop whose "training" adds the step number to a variable; it evaluates every 3 steps. */
function counting(outDir: string, variable: tf.Variable, overrides: Partial<TrainingLoopOptions<CountState>> = {}) {
  const options: TrainingLoopOptions<CountState> = {
    name: 'test',
    outDir,
    groups: { weights: [variable] },
    totalSteps: 7,
    checkpointEvery: 2,
    config: { rate: 1, label: 'a' },
    freeOnResume: ['label'],
    initialState: { seen: [], evaluations: 0 },
    progress: false,
    log: () => undefined,
    runStep: async (step, state) => {
      variable.assign(tf.add(variable, step));
      return { state: { ...state, seen: [...state.seen, step] }, loss: 1, progress: { epoch: 0, loss: 1, imagesPerSecond: 1 } };
    },
    afterStep: async (steps, state) => (steps % 3 === 0 ? { ...state, evaluations: state.evaluations + 1 } : undefined),
    ...overrides,
  };
  return { options };
}

const stepOf = async (dir: string) => JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')).meta.step;

describe('the training loop', () => {
  it('runs every step once, evaluates when due and checkpoints before the first step, every N steps, after evaluations and at the end', async () => {
    const dir = join(root, 'straight');
    const variable = tf.variable(tf.scalar(0));
    const onDisk: (number | undefined)[] = [];
    const { options } = counting(dir, variable);
    const result = await runTrainingLoop({
      ...options,
      runStep: async (step, state) => {
        // The checkpoint left by the steps before this one.
        onDisk.push(await stepOf(dir).catch(() => undefined));
        return options.runStep(step, state);
      },
    });
    expect(result).toEqual({ steps: 7, interrupted: false, state: { seen: [0, 1, 2, 3, 4, 5, 6], evaluations: 2 }, seconds: expect.any(Number) });
    expect(variable.dataSync()[0]).toBe(21);
    // Checkpoints at the start and after steps 2, 3 (evaluated), 4, 6 (both) and 7 (the last), none after 1 and 5.
    expect(onDisk).toEqual([0, 0, 2, 3, 4, 4, 6]);
    expect(await stepOf(dir)).toBe(7);
    variable.dispose();
  });

  it('stopped after a step and resumed, ends where an uninterrupted run ends, with the same state', async () => {
    const dir = join(root, 'resumed');
    const variable = tf.variable(tf.scalar(0));
    const first = await runTrainingLoop({ ...counting(dir, variable).options, stopAfterSteps: 4 });
    expect([first.steps, first.interrupted]).toEqual([4, true]);
    variable.assign(tf.scalar(-100));
    const resumed = await runTrainingLoop({ ...counting(dir, variable).options, resume: true });
    expect(resumed).toEqual({ steps: 7, interrupted: false, state: { seen: [0, 1, 2, 3, 4, 5, 6], evaluations: 2 }, seconds: expect.any(Number) });
    expect(variable.dataSync()[0]).toBe(21);
    variable.dispose();
  });

  it('refuses to resume with a setting that changes the result unless told to accept it, and a checkpoint of another format, naming the file', async () => {
    const dir = join(root, 'refused');
    const variable = tf.variable(tf.scalar(0));
    await runTrainingLoop({ ...counting(dir, variable).options, stopAfterSteps: 2 });
    await expect(runTrainingLoop({ ...counting(dir, variable).options, config: { rate: 2, label: 'a', extra: true }, resume: true })).rejects.toThrow(
      `${join(dir, 'checkpoint.json')}: rate is 1 there and 2 now; extra is undefined there and true now; these change the result: resume with the checkpoint's values, or pass --accept-changes to continue with the new ones`,
    );
    // Free settings may change; others with acceptChanges, each said in the log.
    const lines: string[] = [];
    const accepted = runTrainingLoop({ ...counting(dir, variable).options, config: { rate: 2, label: 'b' }, resume: true, acceptChanges: true, stopAfterSteps: 3, log: (line) => lines.push(line) });
    await expect(accepted).resolves.toMatchObject({ steps: 3 });
    expect(lines).toEqual(['[adl] warning: resuming with a changed setting: rate is 1 there and 2 now', '[adl] resuming test at step 2']);
    const manifest = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'));
    await writeFile(join(dir, 'checkpoint.json'), JSON.stringify({ ...manifest, meta: { step: 2 } }));
    await expect(runTrainingLoop({ ...counting(dir, variable).options, resume: true })).rejects.toThrow(/checkpoint\.json: written by an earlier version/);
    variable.dispose();
  });

  it('records where it computed and, resuming elsewhere, says so and goes on', async () => {
    const dir = join(root, 'moved');
    const variable = tf.variable(tf.scalar(0));
    const here = { backend: 'onednn', kernels: 'onednn', threads: 2 };
    await runTrainingLoop({ ...counting(dir, variable).options, environment: here, stopAfterSteps: 2 });
    expect(JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')).meta.environment).toEqual(here);
    const resumed = async (environment: Record<string, unknown>) => {
      const lines: string[] = [];
      await runTrainingLoop({ ...counting(dir, variable).options, environment, resume: true, stopAfterSteps: 3, log: (line) => lines.push(line) });
      return lines;
    };
    expect(await resumed(here)).toEqual(['[adl] resuming test at step 2']);
    expect(await resumed({ ...here, threads: 1 })).toEqual([
      '[adl] warning: resuming on another setup (threads is 2 there and 1 now): results will differ in the last bits from an uninterrupted run',
      '[adl] resuming test at step 3',
    ]);
    variable.dispose();
  });

  it('stops on a non-finite variable without checkpointing it, naming the step and the last good checkpoint, which resumes', async () => {
    const dir = join(root, 'diverged');
    const variable = tf.variable(tf.scalar(0));
    // Step 5 (index 4) makes the variable infinite; checkpoints are due after steps 2, 3 and 4.
    const exploding = counting(dir, variable, {
      runStep: async (step, state) => {
        variable.assign(step === 4 ? tf.scalar(Infinity) : tf.add(variable, step));
        return { state: { ...state, seen: [...state.seen, step] }, loss: 1, progress: { epoch: 0, loss: 1, imagesPerSecond: 1 } };
      },
      checkpointEvery: 1,
    });
    const error = await runTrainingLoop(exploding.options).catch((e) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    expect(error.message).toBe(
      `test diverged at step 5: weights[0] (${variable.name}) holds Infinity at index 0 (diverged: beyond ±1.8e19); nothing of that step was saved; the last good checkpoint is ${join(dir, 'checkpoint.json')} (step 4; the next step's loss was 1.000): resume from it with a lower learning rate (--resume --accept-changes)`,
    );
    expect(await stepOf(dir)).toBe(4);
    const resumed = await runTrainingLoop({ ...counting(dir, variable).options, resume: true });
    expect(resumed.steps).toBe(7);
    expect(variable.dataSync()[0]).toBe(21);
    // At the first step: the starting point was never followed by a sane step.
    const early = counting(join(root, 'early'), variable, { runStep: async () => Promise.reject(new NonFiniteLossError('loss is NaN at step 1')) });
    await expect(runTrainingLoop(early.options)).rejects.toThrow('test diverged at step 1: loss is NaN at step 1; nothing of that step was saved; no checkpoint of this run was followed by a sane step: start again with a lower learning rate');
    variable.dispose();
  });

  describe('a run whose weights blow up before they overflow (gradient descent on v² with a rate far too high)', () => {
    /** Minimises v² from v = 1 with step size `rate`: the loss is v² before the update, as in a training step. */
    const descending = (outDir: string, variable: tf.Variable, rate: number, overrides: Partial<TrainingLoopOptions<CountState>> = {}) =>
      counting(outDir, variable, {
        config: { rate, label: 'a' },
        keepCheckpoints: 2,
        runStep: async (step, state) => {
          const loss = (await variable.data())[0] ** 2;
          if (!Number.isFinite(Math.fround(loss))) throw new NonFiniteLossError(`loss is ${Math.fround(loss)} at step ${step + 1}`);
          variable.assign(tf.mul(variable, 1 - 2 * rate));
          return { state: { ...state, seen: [...state.seen, step] }, loss, progress: { epoch: 0, loss, imagesPerSecond: 1 } };
        },
        ...overrides,
      }).options;

    it('names the newest checkpoint whose next step had a sane loss, makes it current again, and resumes from it to the end', async () => {
      const dir = join(root, 'blown');
      const variable = tf.variable(tf.scalar(1));
      // Step 1 (loss 1) pushes v to -2e10, still finite: checkpoint 1 holds it; step 2's loss, 4e20, is
      // not sane, so checkpoint 1 is not good; step 2's update (v = 4e20) cannot be written.
      const error = await runTrainingLoop(descending(dir, variable, 1e10, { checkpointEvery: 1 })).catch((e) => e);
      expect(error).toBeInstanceOf(DivergenceError);
      expect(error.message.replace(/holds \d+ at/, 'holds 4e20 at')).toBe(
        `test diverged at step 2: weights[0] (${variable.name}) holds 4e20 at index 0 (diverged: beyond ±1.8e19); nothing of that step was saved; the last good checkpoint is ${join(dir, 'checkpoint.json')} (step 0, current again; the next step's loss was 1.000): resume from it with a lower learning rate (--resume --accept-changes)`,
      );
      expect(await stepOf(dir)).toBe(0);
      const lines: string[] = [];
      const resumed = await runTrainingLoop(descending(dir, variable, 0.1, { checkpointEvery: 1, resume: true, acceptChanges: true, log: (line) => lines.push(line) }));
      expect(lines).toEqual(['[adl] warning: resuming with a changed setting: rate is 10000000000 there and 0.1 now', '[adl] resuming test at step 0']);
      expect(resumed).toMatchObject({ steps: 7, interrupted: false, state: { seen: [0, 1, 2, 3, 4, 5, 6] } });
      expect(variable.dataSync()[0]).toBeCloseTo(0.8 ** 7, 6);
      // The abandoned checkpoint 1 is gone; the newest two are kept, the newest good one among them.
      expect((await readdir(dir)).filter((file) => file.endsWith('.json')).sort()).toEqual(['checkpoint-6.json', 'checkpoint-7.json', 'checkpoint.json']);
      expect((await readdir(dir)).filter((file) => file.endsWith('.bin'))).toHaveLength(2);
      variable.dispose();
    });

    it('with a loss that overflows first, and checkpoints far apart, goes back to the start', async () => {
      const dir = join(root, 'overflowed');
      const variable = tf.variable(tf.scalar(1));
      const error = await runTrainingLoop(descending(dir, variable, 1e10, { checkpointEvery: 50 })).catch((e) => e);
      expect(error.message).toBe(
        `test diverged at step 3: loss is Infinity at step 3; nothing of that step was saved; the last good checkpoint is ${join(dir, 'checkpoint.json')} (step 0; the next step's loss was 1.000): resume from it with a lower learning rate (--resume --accept-changes)`,
      );
      await expect(runTrainingLoop(descending(dir, variable, 0.1, { resume: true, acceptChanges: true }))).resolves.toMatchObject({ steps: 7 });
      variable.dispose();
    });

    it('keeps the newest good checkpoint beside the newest ones while later steps are not sane', async () => {
      const dir = join(root, 'kept');
      const variable = tf.variable(tf.scalar(1));
      // Losses 1, 1, then ×100 a step: checkpoints 0, 1 are good, 2 (followed by loss 100 > 10 × 1 + 1) is not, nor later ones (the running loss lags).
      const losses = [1, 1, 1e2, 1e4, 1e6, 1e8, 1e10];
      await runTrainingLoop(
        counting(dir, variable, {
          checkpointEvery: 1,
          keepCheckpoints: 2,
          runStep: async (step, state) => ({ state: { ...state, seen: [...state.seen, step] }, loss: losses[step], progress: { epoch: 0, loss: losses[step], imagesPerSecond: 1 } }),
        }).options,
      );
      const manifest = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'));
      expect(manifest.meta.good).toEqual({ step: 1, nextLoss: 1 });
      expect((await readdir(dir)).filter((file) => file.endsWith('.json')).sort()).toEqual(['checkpoint-1.json', 'checkpoint-6.json', 'checkpoint-7.json', 'checkpoint.json']);
      variable.dispose();
    });
  });
});
