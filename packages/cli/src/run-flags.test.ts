import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useFastestTestBackend } from '@adl/backend/test';
import { generateSynthetic } from '@adl/data-cityscapes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRetrain } from './commands.js';
import { compareRuns, formatComparison } from './compare-command.js';
import { TINY_ARCHITECTURE } from './test-architecture.js';

const backend = await useFastestTestBackend();
let root: string;
const quiet = () => {};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-run-flags-'));
  await generateSynthetic({ dir: join(root, 'data'), count: { train: 4, val: 2 }, height: 32, width: 48, seed: 2 });
  await writeFile(join(root, 'arch.json'), JSON.stringify(TINY_ARCHITECTURE));
  await writeFile(join(root, 'retrain.json'), JSON.stringify({ dataRoot: join(root, 'data'), outDir: join(root, 'from-file'), architecture: join(root, 'arch.json'), asppChannels: 8, asppRates: [1, 2, 3], iterations: 2, evalEvery: 2, batchSize: 2, crop: 32, backend }));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('--seed and --out on search and retrain (a sweep from one config file)', () => {
  it('replace the config file\'s seed and outDir; on resume another seed is refused, naming the flag', async () => {
    const out = join(root, 'seed-3');
    await runRetrain(join(root, 'retrain.json'), { overrides: { seed: 3, outDir: out }, progress: false, log: quiet });
    const manifest = JSON.parse(await readFile(join(out, 'checkpoint.json'), 'utf8'));
    expect(manifest.meta.config).toMatchObject({ seed: 3, outDir: out });
    await expect(runRetrain(join(root, 'retrain.json'), { overrides: { seed: 4, outDir: out }, resume: true, progress: false, log: quiet })).rejects.toThrow(/seed is 3 there and 4 now/);
    await expect(runRetrain(join(root, 'retrain.json'), { overrides: { seed: -1 }, progress: false, log: quiet })).rejects.toThrow(/retrain\.json \(with --seed\): seed: /);
  });

  it('adl compare puts the runs of a sweep side by side, best validation mIoU first', async () => {
    const runs = [5, 6].map((seed) => join(root, `sweep-${seed}`));
    for (const [i, out] of runs.entries()) await runRetrain(join(root, 'retrain.json'), { overrides: { seed: 5 + i, outDir: out }, progress: false, log: quiet });
    const compared = await compareRuns(runs);
    expect(compared.map((r) => r.seed).sort()).toEqual([5, 6]);
    expect(compared[0].bestMiou).toBeGreaterThanOrEqual(compared[1].bestMiou!);
    for (const run of compared) {
      expect(run).toMatchObject({ kind: 'retrain', bestAt: 2, path: TINY_ARCHITECTURE.path, done: 2, total: 2 });
      expect(run.multAdds).toBeGreaterThan(0);
      expect(run.seconds).toBeGreaterThan(0);
    }
    expect(formatComparison(compared).split('\n')).toHaveLength(4);
    await expect(compareRuns([join(root, 'data')])).rejects.toThrow(`${join(root, 'data', 'checkpoint.json')}: no checkpoint of a search or retraining here`);
  });
});
