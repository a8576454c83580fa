import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    fixedOnResume: ['rate'],
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
    expect(result).toEqual({ steps: 7, interrupted: false, state: { seen: [0, 1, 2, 3, 4, 5, 6], evaluations: 2 } });
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
    expect(resumed).toEqual({ steps: 7, interrupted: false, state: { seen: [0, 1, 2, 3, 4, 5, 6], evaluations: 2 } });
    expect(variable.dataSync()[0]).toBe(21);
    variable.dispose();
  });

  it('refuses to resume with a setting that changes the steps, and a checkpoint of another format, naming the file', async () => {
    const dir = join(root, 'refused');
    const variable = tf.variable(tf.scalar(0));
    await runTrainingLoop({ ...counting(dir, variable).options, stopAfterSteps: 2 });
    await expect(runTrainingLoop({ ...counting(dir, variable).options, config: { rate: 2, label: 'a' }, resume: true })).rejects.toThrow(/checkpoint\.json: rate is 1 there and 2 now/);
    // Settings outside the list may change.
    await expect(runTrainingLoop({ ...counting(dir, variable).options, config: { rate: 1, label: 'b' }, resume: true, stopAfterSteps: 3 })).resolves.toMatchObject({ steps: 3 });
    const manifest = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'));
    await writeFile(join(dir, 'checkpoint.json'), JSON.stringify({ ...manifest, meta: { step: 2 } }));
    await expect(runTrainingLoop({ ...counting(dir, variable).options, resume: true })).rejects.toThrow(/checkpoint\.json: written by an earlier version/);
    variable.dispose();
  });
});
