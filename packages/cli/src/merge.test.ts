import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '@adl/data-cityscapes';
import { retrain } from '@adl/search';
import { useFastestTestBackend } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvalConfigSchema, runEval } from './eval-command.js';
import { runMerge } from './merge-command.js';
import { TINY_ARCHITECTURE } from './test-architecture.js';

const backend = await useFastestTestBackend();
let root: string;
let checkpoint: string;
const quiet = () => {};
const files = async (dir: string): Promise<string[]> => (await readdir(dir, { recursive: true })).sort();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-cli-merge-'));
  await generateSynthetic({ dir: join(root, 'data'), count: { train: 2, val: 7 }, height: 32, width: 48, seed: 6 });
  await writeFile(join(root, 'arch.json'), JSON.stringify(TINY_ARCHITECTURE));
  await retrain(
    { dataRoot: join(root, 'data'), outDir: join(root, 'retrain'), architecture: join(root, 'arch.json'), asppChannels: 8, asppRates: [1, 2, 3], iterations: 2, evalEvery: 2, batchSize: 2, crop: 32, backend },
    { progress: false, log: quiet },
  );
  checkpoint = join(root, 'retrain', 'best');
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('adl eval --shard, then adl merge', () => {
  const evalInto = (outDir: string, extra: Record<string, unknown> = {}) =>
    runEval(EvalConfigSchema.parse({ checkpoint, dataRoot: join(root, 'data'), outDir, flip: true, imagesWritten: 4, backend, ...extra }), { log: quiet });

  it('three shards merge into the metrics.json, iou.md and PNGs of the unsharded run, byte for byte', async () => {
    await evalInto(join(root, 'whole'));
    for (const i of [0, 1, 2]) await evalInto(join(root, `shard-${i}`), { shard: `${i}/3` });
    // Given in any order.
    const { merged } = await runMerge([2, 0, 1].map((i) => join(root, `shard-${i}`)), join(root, 'merged'), { json: true, log: quiet });
    expect(merged.images).toHaveLength(7);
    for (const file of ['metrics.json', 'iou.md', 'evaluation.json']) expect(await readFile(join(root, 'merged', file), 'utf8')).toBe(await readFile(join(root, 'whole', file), 'utf8'));
    expect(await files(join(root, 'merged'))).toEqual(await files(join(root, 'whole')));
    for (const file of (await files(join(root, 'whole'))).filter((f) => f.endsWith('.png'))) {
      expect((await readFile(join(root, 'merged', file))).equals(await readFile(join(root, 'whole', file)))).toBe(true);
    }
  });

  it('refuses a missing shard, a shard given twice, and shards evaluated differently, naming the folders', async () => {
    const shard = (i: number) => join(root, `shard-${i}`);
    const out = join(root, 'refused');
    await expect(runMerge([shard(0), shard(2)], out, { log: quiet })).rejects.toThrow('shard 1 of 3 missing (given: 0, 2)');
    await expect(runMerge([shard(0), shard(1), shard(1), shard(2)], out, { log: quiet })).rejects.toThrow(`${shard(1)} and ${shard(1)} are both shard 1/3`);
    await evalInto(join(root, 'other-1'), { shard: '1/3', flip: false });
    await expect(runMerge([shard(0), join(root, 'other-1'), shard(2)], out, { log: quiet })).rejects.toThrow(new RegExp(`^${join(root, 'other-1')} and ${shard(0)} were evaluated differently: .*"flip":false`));
    await evalInto(join(root, 'halves-1'), { shard: '1/2' });
    await expect(runMerge([shard(0), join(root, 'halves-1')], out, { log: quiet })).rejects.toThrow(`${join(root, 'halves-1')} is shard 1/2, ${shard(0)} one of 3`);
    await expect(runMerge([join(root, 'data')], out, { log: quiet })).rejects.toThrow(`${join(root, 'data', 'evaluation.json')}: cannot read (ENOENT): not the output folder of an adl eval with --out`);
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });
});
