import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { kernelsFor } from '@adl/backend';
import { useFastestTestBackend } from '@adl/backend/test';
import { generateSynthetic, type RasterImage } from '@adl/data-cityscapes';
import { exportOnnx, imageTensor, onnxImageInput } from '@adl/eval';
import { PRIMITIVES } from '@adl/ops';
import { loadTrainedNet, retrain } from '@adl/search';
import { FixedNet, getPreset } from '@adl/trellis';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExport } from './export-command.js';
import { TINY_ARCHITECTURE } from './test-architecture.js';

const backend = await useFastestTestBackend();
const kernels = kernelsFor(tf.getBackend());
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-export-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

// Odd sizes, so every resize and stride-2 op meets an odd edge.
const [HEIGHT, WIDTH] = [65, 97];
const rows: string[] = [];

/** A test image, RGB 0–255. */
const testImage = (height: number, width: number): RasterImage => ({
  height,
  width,
  channels: 3,
  data: Uint8Array.from({ length: 3 * height * width }, (_, i) => (i * 37 + ((i / 7) | 0)) % 256),
});

/** Our logits for `image`, normalised as inference normalises it, as NCHW values. */
function ourLogits(net: FixedNet, image: RasterImage): Float32Array {
  return tf.tidy(() => tf.transpose(net.apply(imageTensor(image), { training: false, kernels }), [0, 3, 1, 2]).dataSync() as Float32Array);
}

/** ONNX Runtime's logits and labels for the exported model; the largest |difference| from ours; the table row. */
async function compare(name: string, net: FixedNet, bytes: Uint8Array, opTypes: string[], height = HEIGHT, width = WIDTH) {
  const image = testImage(height, width);
  const ours = ourLogits(net, image);
  const session = await ort.InferenceSession.create(bytes);
  const { logits, labels } = await session.run({ image: new ort.Tensor('float32', onnxImageInput(image), [1, 3, height, width]) });
  const theirs = logits.data as Float32Array;
  expect(theirs.length).toBe(ours.length);
  let maxDifference = 0;
  let maxLogit = 0;
  for (let i = 0; i < ours.length; i++) {
    maxDifference = Math.max(maxDifference, Math.abs(ours[i] - theirs[i]));
    maxLogit = Math.max(maxLogit, Math.abs(ours[i]));
  }
  expect(labels.dims).toEqual([1, height, width]);
  rows.push(`| ${name} | ${height}×${width} | ${maxDifference.toExponential(2)} | ${maxLogit.toFixed(1)} | ${opTypes.join(', ')} |`);
  return { maxDifference, maxLogit };
}

/** A net whose running statistics are one batch's (momentum 1), so that its logits have a realistic scale. */
function calibrated(options: ConstructorParameters<typeof FixedNet>[0]): FixedNet {
  const net = new FixedNet({ ...options, batchNorm: { momentum: 1, epsilon: 1e-3 } });
  tf.tidy(() => net.apply(tf.randomNormal([2, HEIGHT, WIDTH, 3], 0, 1, 'float32', 7) as tf.Tensor4D, { training: true, kernels }));
  return net;
}

describe('ONNX export, checked by ONNX Runtime', () => {
  it('every op a found cell can hold, at stride 1 and 2, with a coarser and a finer cell', async () => {
    // Each primitive but `none` (never in a found cell) on a cell input (stride 2 in a reducing cell), and on block outputs.
    const genotype: [number, (typeof PRIMITIVES)[number]][] = [[0, 'sep_conv_3x3'], [1, 'max_pool_3x3'], [0, 'avg_pool_3x3'], [1, 'skip_connect'], [0, 'skip_connect'], [1, 'sep_conv_5x5'], [0, 'atrous_conv_3x3'], [1, 'atrous_conv_5x5'], [2, 'max_pool_3x3'], [3, 'avg_pool_3x3']];
    expect(new Set(genotype.map(([, op]) => op))).toEqual(new Set(PRIMITIVES.filter((op) => op !== 'none')));
    const net = calibrated({ architecture: { path: [0, 1, 2, 1], genotype, filterMultiplier: 4 }, numClasses: 5, asppChannels: 8, asppRates: [1, 2, 3] });
    const exported = await exportOnnx(net, { height: HEIGHT, width: WIDTH });
    const { maxDifference, maxLogit } = await compare('every cell op, path [0,1,2,1]', net, exported.bytes, exported.opTypes);
    expect(maxDifference).toBeLessThan(1e-4 * Math.max(1, maxLogit));
    net.dispose();
  });

  it.each(['autodeeplab-s', 'autodeeplab-m', 'autodeeplab-l'])('%s', async (preset) => {
    const net = calibrated({ architecture: getPreset(preset), numClasses: 19 });
    const exported = await exportOnnx(net, { height: HEIGHT, width: WIDTH });
    const { maxDifference, maxLogit } = await compare(preset, net, exported.bytes, exported.opTypes);
    expect(maxDifference).toBeLessThan(1e-4 * Math.max(1, maxLogit));
    net.dispose();
  });

  it('a retrained checkpoint through `adl export`, whose labels are the argmax of its logits', async () => {
    const dataRoot = join(root, 'data');
    await generateSynthetic({ dir: dataRoot, count: { train: 2, val: 1 }, height: 32, width: 48, seed: 5 });
    await writeFile(join(root, 'arch.json'), JSON.stringify(TINY_ARCHITECTURE));
    const retrainDir = join(root, 'retrain');
    await retrain({ dataRoot, outDir: retrainDir, architecture: join(root, 'arch.json'), asppChannels: 8, asppRates: [1, 2, 3], iterations: 2, evalEvery: 2, batchSize: 2, crop: 32, backend, batchNormDecay: 0.5 }, { progress: false, log: () => {} });
    const out = join(root, 'model.onnx');
    const exported = await runExport({ checkpoint: join(retrainDir, 'best'), out, height: 48, width: 64, numClasses: 19, backend }, () => {});
    const { net } = await loadTrainedNet(join(retrainDir, 'best'));
    const bytes = new Uint8Array(await readFile(out));
    const { maxDifference, maxLogit } = await compare('a retrained checkpoint (adl export)', net, bytes, exported.opTypes, 48, 64);
    expect(maxDifference).toBeLessThan(1e-4 * Math.max(1, maxLogit));
    const session = await ort.InferenceSession.create(bytes);
    const { logits, labels } = await session.run({ image: new ort.Tensor('float32', onnxImageInput(testImage(48, 64)), [1, 3, 48, 64]) });
    const argmax = tf.tidy(() => tf.argMax(tf.tensor4d(logits.data as Float32Array, [1, 19, 48, 64]), 1).dataSync());
    expect(Array.from(labels.data as BigInt64Array, Number)).toEqual(Array.from(argmax));
    net.dispose();
  });

  it('refuses a file name without .onnx and more than one source, before any work', async () => {
    const base = { out: join(root, 'x.onnx'), height: 33, width: 33, numClasses: 19, backend };
    await expect(runExport({ ...base, preset: 'autodeeplab-s', out: join(root, 'x.bin') }, () => {})).rejects.toThrow(/x\.bin: the output file must end in \.onnx/);
    await expect(runExport({ ...base, preset: 'autodeeplab-s', checkpoint: root }, () => {})).rejects.toThrow(/give one of --checkpoint, --preset and --arch/);
    // Sizes: below the output stride (autodeeplab-s reaches level 3: stride 32), and beyond memory; a folder as the output file.
    await expect(runExport({ ...base, preset: 'autodeeplab-s', height: 7 }, () => {})).rejects.toThrow("--height 7 --width 33: smaller than the network's output stride 32; export at least 32×32");
    await expect(runExport({ ...base, preset: 'autodeeplab-s', height: 1_000_000, width: 1_000_000 }, () => {})).rejects.toThrow(/^--height 1000000 --width 1000000: the model at that size would need about 9\.5e\+5 GB to build and run; this machine has \d+\.\d GB$/);
    await mkdir(join(root, 'folder.onnx'), { recursive: true });
    await expect(runExport({ ...base, preset: 'autodeeplab-s', out: join(root, 'folder.onnx') }, () => {})).rejects.toThrow(`${join(root, 'folder.onnx')}: is a folder; give a file name`);
  });

  afterAll(() => {
    console.log(['| model | input | max abs logit difference | max abs logit | ONNX ops |', '| --- | --- | ---: | ---: | --- |', ...rows].join('\n'));
  });
});
