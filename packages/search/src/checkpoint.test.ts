import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_MANIFEST, CheckpointError, NonFiniteValueError, readCheckpointManifest, restoreCheckpoint, restoreKeptCheckpoint, saveCheckpoint } from './checkpoint.js';

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
    expect(manifest).toMatchObject({ version: 2, data: expect.stringMatching(/^checkpoint-12-[0-9a-f]{12}\.bin$/), bytes: 8 * 4, meta: { step: 12 } });
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
    expect((await readdir(run)).sort()).toEqual([(await readCheckpointManifest(run))!.data, CHECKPOINT_MANIFEST]);
    expect((await readdir(run))[0]).toMatch(/^checkpoint-2-/);
    tf.dispose(Object.values(saved).flat());
  });

  it('say where there is none, and name the file and the problem when one does not fit the model', async () => {
    const run = join(dir, 'mismatch');
    expect(await readCheckpointManifest(run)).toBeUndefined();
    await expect(restoreCheckpoint(run, {})).rejects.toThrow(/checkpoint\.json: no checkpoint here/);
    const saved = variables(2);
    await saveCheckpoint(run, saved, {}, '1');
    const fewer = { weights: saved.weights.slice(0, 1), state: saved.state };
    await expect(restoreCheckpoint(run, fewer)).rejects.toThrow(/checkpoint-1-\w+\.bin: group "weights" holds 2 tensors, the model has 1/);
    const reshaped = { weights: [saved.weights[1], saved.weights[0]], state: saved.state };
    await expect(restoreCheckpoint(run, reshaped)).rejects.toThrow(/checkpoint-1-\w+\.bin: weights\[0\] has shape \[2,2\], the model \[1\]/);
    await rm(join(run, (await readCheckpointManifest(run))!.data));
    await expect(restoreCheckpoint(run, saved)).rejects.toThrow(/checkpoint-1-\w+\.bin: missing \(named by checkpoint\.json\)/);
    await writeFile(join(run, CHECKPOINT_MANIFEST), '{ not json');
    await expect(readCheckpointManifest(run)).rejects.toThrow(CheckpointError);
    await expect(readCheckpointManifest(run)).rejects.toThrow(/checkpoint\.json: not valid JSON/);
    expect(JSON.parse(await readFile(join(dir, 'newest', CHECKPOINT_MANIFEST), 'utf8')).data).toMatch(/^checkpoint-2-/);
    tf.dispose(Object.values(saved).flat());
  });

  it('refuse a truncated or altered data file and a data path outside the folder, naming the file', async () => {
    const run = join(dir, 'damaged');
    const saved = variables(3);
    await saveCheckpoint(run, saved, {}, 'best');
    const manifest = (await readCheckpointManifest(run))!;
    const data = join(run, manifest.data);
    const original = await readFile(data);
    await writeFile(data, original.subarray(0, 10));
    await expect(restoreCheckpoint(run, saved)).rejects.toThrow(`${data}: 10 bytes, the manifest describes 32 (truncated or replaced)`);
    const altered = Buffer.from(original);
    altered.fill(0xff, 0, 8);
    await writeFile(data, altered);
    await expect(restoreCheckpoint(run, saved)).rejects.toThrow(`${data}: checksum differs from the manifest's (the file is damaged or was changed)`);
    for (const escape of ['../damaged/x.bin', '/etc/passwd', '.hidden']) {
      await writeFile(join(run, CHECKPOINT_MANIFEST), JSON.stringify({ ...manifest, data: escape }));
      await expect(restoreCheckpoint(run, saved)).rejects.toThrow(`${join(run, CHECKPOINT_MANIFEST)}: data file ${JSON.stringify(escape)} is not a file of the checkpoint folder`);
    }
    tf.dispose(Object.values(saved).flat());
  });

  it('never hold a non-finite value: the save throws before writing, the previous checkpoint stays', async () => {
    const run = join(dir, 'diverged');
    const saved = variables(5);
    await saveCheckpoint(run, saved, { step: 1 }, 'best');
    const before = await readdir(run);
    saved.state[0].assign(tf.tensor1d([1, NaN, 2]));
    const error = await saveCheckpoint(run, saved, { step: 2 }, 'best').catch((e) => e);
    expect(error).toBeInstanceOf(NonFiniteValueError);
    expect(error.message).toMatch(/^state\[0\] \(\S+\) holds NaN at index 1 \(diverged: beyond ±1\.8e19\)$/);
    expect(await readdir(run)).toEqual(before);
    // Finite but past where squaring overflows float32 (a batch norm would see an infinite variance).
    saved.state[0].assign(tf.tensor1d([1, 2, 1e20]));
    await expect(saveCheckpoint(run, saved, { step: 2 }, 'best')).rejects.toThrow(/holds 100000002004087730000 at index 2/);
    expect(await restoreCheckpoint(run, variables(0))).toEqual({ step: 1 });
    // Saved again under the same tag with other values: another data file, so the manifest in place
    // never describes a file being rewritten.
    saved.state[0].assign(tf.tensor1d([1, 2, 3]));
    await saveCheckpoint(run, saved, { step: 3 }, 'best');
    expect((await readCheckpointManifest(run))!.data).not.toBe(before.find((f) => f.endsWith('.bin')));
    tf.dispose(Object.values(saved).flat());
  });

  it('keep the tags asked for, each with its manifest and data file, remove the others, and make a kept one current again', async () => {
    const run = join(dir, 'kept');
    const saved = variables(1);
    const listing = async () => (await readdir(run)).map((file) => file.replace(/-[0-9a-f]{12}\.bin$/, '.bin')).sort();
    await saveCheckpoint(run, saved, { step: 1 }, '1', { keep: ['1'] });
    saved.state[0].assign(tf.tensor1d([2, 2, 2]));
    await saveCheckpoint(run, saved, { step: 2 }, '2', { keep: ['1', '2'] });
    saved.state[0].assign(tf.tensor1d([3, 3, 3]));
    await saveCheckpoint(run, saved, { step: 3 }, '3', { keep: ['1', '3'] });
    expect(await listing()).toEqual(['checkpoint-1.bin', 'checkpoint-1.json', 'checkpoint-3.bin', 'checkpoint-3.json', CHECKPOINT_MANIFEST]);
    // Without `keep` (best/, conversions), kept checkpoints are left alone.
    await saveCheckpoint(run, saved, { step: 3 }, 'x');
    expect(await listing()).toEqual(['checkpoint-1.bin', 'checkpoint-1.json', 'checkpoint-3.bin', 'checkpoint-3.json', 'checkpoint-x.bin', CHECKPOINT_MANIFEST]);
    await restoreKeptCheckpoint(run, '1');
    const restored = variables(0);
    expect(await restoreCheckpoint(run, restored)).toEqual({ step: 1 });
    expect(values(restored).state).toEqual([[10, -1, 7]]);
    await expect(restoreKeptCheckpoint(run, '2')).rejects.toThrow(`${join(run, 'checkpoint-2.json')}: missing (the kept checkpoint of 2)`);
    tf.dispose([...Object.values(saved).flat(), ...Object.values(restored).flat()]);
  });
});
