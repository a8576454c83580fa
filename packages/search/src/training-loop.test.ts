import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
      return { state: { ...state, seen: [...state.seen, step] }, progress: { epoch: 0, loss: 1, imagesPerSecond: 1 } };
    },
    afterStep: async (steps, state) => (steps % 3 === 0 ? { ...state, evaluations: state.evaluations + 1 } : undefined),
    ...overrides,
  };
  return { options };
}

const stepOf = async (dir: string) => JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')).meta.step;

describe('the training loop', () => {
  it('runs every step once, evaluates when due and checkpoints every N steps, after evaluations and at the end', async () => {
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
    // Checkpoints after steps 2, 3 (evaluated), 4, 6 (both) and 7 (the last), none after 1 and 5.
    expect(onDisk).toEqual([undefined, undefined, 2, 3, 4, 4, 6]);
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
        return { state: { ...state, seen: [...state.seen, step] }, progress: { epoch: 0, loss: 1, imagesPerSecond: 1 } };
      },
      checkpointEvery: 1,
    });
    const error = await runTrainingLoop(exploding.options).catch((e) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    expect(error.message).toBe(
      `test diverged at step 5: weights[0] (${variable.name}) holds Infinity at index 0 (diverged: beyond ±1.8e19); nothing of that step was saved; the last good checkpoint is ${join(dir, 'checkpoint.json')} (step 4): resume from it with a lower learning rate (--resume --accept-changes)`,
    );
    expect(await stepOf(dir)).toBe(4);
    const resumed = await runTrainingLoop({ ...counting(dir, variable).options, resume: true });
    expect(resumed.steps).toBe(7);
    expect(variable.dataSync()[0]).toBe(21);
    // Before any checkpoint: start again.
    const early = counting(join(root, 'early'), variable, { runStep: async () => Promise.reject(new NonFiniteLossError('loss is NaN at step 1')) });
    await expect(runTrainingLoop(early.options)).rejects.toThrow('test diverged at step 1: loss is NaN at step 1; nothing of that step was saved; no checkpoint of this run was written: start again with a lower learning rate');
    variable.dispose();
  });
});
