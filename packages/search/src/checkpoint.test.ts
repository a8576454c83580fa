import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_MANIFEST, CheckpointError, readCheckpointManifest, restoreCheckpoint, saveCheckpoint } from './checkpoint.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'adl-checkpoint-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const variables = (seed: number) => ({
  weights: [tf.variable(tf.tensor2d([[seed, 1], [2, 3]])), tf.variable(tf.tensor1d([seed + 0.5]))],
  state: [tf.variable(tf.tensor1d([seed * 10, -1, 7]), false)],
});
const values = (groups: Record<string, tf.Variable[]>) => Object.fromEntries(Object.entries(groups).map(([group, vs]) => [group, vs.map((v) => Array.from(v.dataSync()))]));

describe('checkpoints', () => {
  it('restore exactly what was saved, group by group, with the meta data', async () => {
    const run = join(dir, 'roundtrip');
    const saved = variables(4);
    await saveCheckpoint(run, saved, { step: 12, note: 'x' }, '12');
    const restored = variables(9);
    expect(await restoreCheckpoint(run, restored)).toEqual({ step: 12, note: 'x' });
    expect(values(restored)).toEqual(values(saved));
    const manifest = await readCheckpointManifest<{ step: number }>(run);
    expect(manifest).toMatchObject({ version: 1, data: 'checkpoint-12.bin', meta: { step: 12 } });
    expect(manifest!.tensors.map((t) => [t.group, t.shape, t.offset])).toEqual([
      ['weights', [2, 2], 0],
      ['weights', [1], 4],
      ['state', [3], 5],
    ]);
    tf.dispose([...Object.values(saved).flat(), ...Object.values(restored).flat()]);
  });

  it('keep only the newest data file', async () => {
    const run = join(dir, 'newest');
    const saved = variables(1);
    await saveCheckpoint(run, saved, {}, '1');
    await saveCheckpoint(run, saved, {}, '2');
    expect((await readdir(run)).sort()).toEqual(['checkpoint-2.bin', CHECKPOINT_MANIFEST]);
    tf.dispose(Object.values(saved).flat());
  });

  it('say where there is none, and name the file and the problem when one does not fit the model', async () => {
    const run = join(dir, 'mismatch');
    expect(await readCheckpointManifest(run)).toBeUndefined();
    await expect(restoreCheckpoint(run, {})).rejects.toThrow(/checkpoint\.json: no checkpoint to resume from/);
    const saved = variables(2);
    await saveCheckpoint(run, saved, {}, '1');
    const fewer = { weights: saved.weights.slice(0, 1), state: saved.state };
    await expect(restoreCheckpoint(run, fewer)).rejects.toThrow(/checkpoint-1\.bin: group "weights" holds 2 tensors, the model has 1/);
    const reshaped = { weights: [saved.weights[1], saved.weights[0]], state: saved.state };
    await expect(restoreCheckpoint(run, reshaped)).rejects.toThrow(/checkpoint-1\.bin: weights\[0\] has shape \[2,2\], the model \[1\]/);
    await rm(join(run, 'checkpoint-1.bin'));
    await expect(restoreCheckpoint(run, saved)).rejects.toThrow(/checkpoint-1\.bin: missing \(named by checkpoint\.json\)/);
    await writeFile(join(run, CHECKPOINT_MANIFEST), '{ not json');
    await expect(readCheckpointManifest(run)).rejects.toThrow(CheckpointError);
    await expect(readCheckpointManifest(run)).rejects.toThrow(/checkpoint\.json: not valid JSON/);
    expect(JSON.parse(await readFile(join(dir, 'newest', CHECKPOINT_MANIFEST), 'utf8')).data).toBe('checkpoint-2.bin');
    tf.dispose(Object.values(saved).flat());
  });
});
