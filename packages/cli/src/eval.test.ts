import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { generateSynthetic, listSplit, readPng } from '@adl/data-cityscapes';
import { retrain } from '@adl/search';
import { useFastestTestBackend } from '@adl/backend/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from './bench-command.js';
import { EvalConfigSchema, resolveConfig, runEval } from './eval-command.js';
import { runPredict } from './predict-command.js';

// onednn where its addon was built: every command takes it by name.
const backend = await useFastestTestBackend();
let root: string;
let checkpoint: string;
const quiet = () => {};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-cli-eval-'));
  const dataRoot = join(root, 'data');
  await generateSynthetic({ dir: dataRoot, count: { train: 2, val: 2 }, height: 32, width: 48, seed: 5 });
  const genotype = [[1, 'skip_connect'], [0, 'sep_conv_3x3'], [2, 'skip_connect'], [1, 'avg_pool_3x3'], [3, 'skip_connect'], [0, 'skip_connect'], [4, 'max_pool_3x3'], [1, 'skip_connect'], [5, 'skip_connect'], [2, 'skip_connect']];
  await writeFile(join(root, 'arch.json'), JSON.stringify({ name: 'tiny', path: [0, 1], genotype, filterMultiplier: 2 }));
  await retrain(
    { dataRoot, outDir: join(root, 'retrain'), architecture: join(root, 'arch.json'), asppChannels: 8, asppRates: [1, 2, 3], iterations: 2, evalEvery: 2, batchSize: 2, crop: 32, backend },
    { progress: false, log: quiet },
  );
  checkpoint = join(root, 'retrain', 'best');
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('adl eval', () => {
  it('validates config file plus flags and names each bad field with its source', async () => {
    const file = join(root, 'eval.json');
    await writeFile(file, JSON.stringify({ checkpoint: 3, dataRoot: 'd', flip: 'yes' }));
    await expect(resolveConfig(EvalConfigSchema, file, {})).rejects.toThrow(/eval\.json \(with command-line flags\): checkpoint: .*; flip: /);
    await expect(resolveConfig(EvalConfigSchema, undefined, { dataRoot: 'd' })).rejects.toThrow(/^command line: checkpoint: /);
    await expect(resolveConfig(EvalConfigSchema, file, { checkpoint: 'c', flip: true, split: 'nope' })).rejects.toThrow(/split/);
    expect(await resolveConfig(EvalConfigSchema, file, { checkpoint: 'c', flip: true })).toMatchObject({ checkpoint: 'c', flip: true, split: 'val', scales: [1] });
  });

  it('scores the split, prints the table and writes PNGs and metrics', async () => {
    const outDir = join(root, 'eval');
    const report = await runEval(EvalConfigSchema.parse({ checkpoint, dataRoot: join(root, 'data'), outDir, scales: [0.75, 1], flip: true, backend }), { log: quiet });
    expect(report.images).toBe(2);
    expect(report.metrics.miou).toBeGreaterThanOrEqual(0);
    expect((await readdir(outDir)).sort()).toEqual(['evaluation.json', 'iou.md', 'metrics.json', 'predictions', 'submission']);
    expect(await readdir(join(outDir, 'predictions'))).toHaveLength(6);
    // One label-id PNG per image and nothing else: what cityscapesScripts reads as CITYSCAPES_RESULTS.
    const samples = await listSplit(join(root, 'data'), 'val');
    expect((await readdir(join(outDir, 'submission'))).sort()).toEqual(samples.map((s) => `${s.name}_labelIds.png`).sort());
  });

  it('scores one shard: image k of the split when k mod N is the shard; refuses a shard that does not exist before any work', async () => {
    const samples = await listSplit(join(root, 'data'), 'val');
    const outDir = join(root, 'eval-shard');
    const report = await runEval(EvalConfigSchema.parse({ checkpoint, dataRoot: join(root, 'data'), outDir, shard: '1/2', backend }), { log: quiet });
    expect(report.images).toBe(1);
    expect(await readdir(join(outDir, 'submission'))).toEqual([`${samples[1].name}_labelIds.png`]);
    await expect(runEval(EvalConfigSchema.parse({ checkpoint: join(root, 'missing'), dataRoot: join(root, 'data'), shard: '2/2', backend }), { log: quiet })).rejects.toThrow('--shard 2/2: shard 2 is not one of 0…1');
  });
});

describe('adl predict', () => {
  it('writes label-id, colour and overlay PNGs for a folder of images', async () => {
    const [sample] = await listSplit(join(root, 'data'), 'val');
    const folder = join(sample.root, sample.imageFile, '..');
    const written = await runPredict([folder], { checkpoint, out: join(root, 'predict'), scales: [1], flip: false, backend }, quiet);
    expect(written).toHaveLength(6);
    expect(written[0]).toMatch(/_labelIds\.png$/);
    const labelIds = await readPng(written[0], 1);
    expect([labelIds.width, labelIds.height]).toEqual([48, 32]);
    await expect(runPredict([join(root, 'missing.png')], { checkpoint, out: root, scales: [1], flip: false, backend }, quiet)).rejects.toThrow(/missing\.png: no such file or folder/);
  });

  it('predicting a folder into itself twice predicts the same images again, not its own outputs', async () => {
    const [sample] = await listSplit(join(root, 'data'), 'val');
    const folder = join(root, 'in-place');
    await mkdir(folder, { recursive: true });
    await copyFile(join(sample.root, sample.imageFile), join(folder, basename(sample.imageFile)));
    const first = await runPredict([folder], { checkpoint, out: folder, scales: [1], flip: false, backend }, quiet);
    const lines: string[] = [];
    const second = await runPredict([folder], { checkpoint, out: folder, scales: [1], flip: false, backend }, (line) => lines.push(line));
    expect(second).toEqual(first);
    expect(lines[0]).toBe(`[adl] ${folder}: left out 3 PNG(s) named as predictions or label maps (*_labelIds, _color, _overlay, _compare …), e.g. ${basename(first[1])}`);
    expect((await readdir(folder)).length).toBe(4);
    await expect(runPredict([folder], { checkpoint, out: first[0], scales: [1], flip: false, backend }, quiet)).rejects.toThrow(`--out ${first[0]}: is a file; give a folder for the predictions`);
  });

  it('predicts one shard of the images; with skipExisting a second run redoes nothing', async () => {
    const [sample] = await listSplit(join(root, 'data'), 'val');
    const folder = join(sample.root, sample.imageFile, '..');
    const out = join(root, 'predict-shard');
    const first = await runPredict([folder], { checkpoint, out, scales: [1], flip: false, backend, shard: '0/2' }, quiet);
    expect(first.map((file) => basename(file))).toEqual(['labelIds', 'color', 'overlay'].map((kind) => `${sample.name}_${kind}.png`));
    const lines: string[] = [];
    expect(await runPredict([folder], { checkpoint, out, scales: [1], flip: false, backend, shard: '0/2', skipExisting: true }, (line) => lines.push(line))).toEqual([]);
    expect(lines).toContain(`[adl] 1 already predicted in ${out}, left as they are`);
  });

  it('predicts in tiles when asked; refuses two inputs that would write the same outputs, before any work', async () => {
    const [sample] = await listSplit(join(root, 'data'), 'val');
    const image = join(sample.root, sample.imageFile);
    const tiled = await runPredict([image], { checkpoint, out: join(root, 'tiled'), scales: [1], flip: false, tile: [16, 24], backend }, quiet);
    const labelIds = await readPng(tiled[0], 1);
    expect([labelIds.width, labelIds.height]).toEqual([48, 32]);
    const twin = join(root, 'twin', basename(image));
    await mkdir(dirname(twin), { recursive: true });
    await copyFile(image, twin);
    const out = join(root, 'twins');
    await expect(runPredict([image, twin], { checkpoint, out, scales: [1], flip: false, backend }, quiet)).rejects.toThrow(
      `${image} and ${twin} would both be written as ${join(out, basename(image).replace('_leftImg8bit.png', '_labelIds.png'))}: predict them into different folders`,
    );
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });
});

describe('adl bench', () => {
  it('times the retrained net', async () => {
    const result = await runBench({ checkpoint, height: 32, width: 48, runs: 2, warmup: 1, backend, numClasses: 19 }, quiet);
    expect(result).toMatchObject({ height: 32, width: 48, runs: 2, backend });
    expect(result.medianMs).toBeGreaterThan(0);
  });
});
