import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listSplit, loadSample, readPng, type RasterImage } from '@adl/data-cityscapes';
import { createFakeCityscapes } from '@adl/data-cityscapes/test';
import { kernelsFor } from '@adl/backend';
import { evaluateSamples } from './evaluate-samples.js';
import { measureLatency } from './latency.js';
import type { InferenceModel } from './model.js';
import { checkPredictSizes, DEFAULT_TILE, predictTrainIds, tileSpans } from './predict.js';

const kernels = kernelsFor('cpu');

/** Per pixel: class 0 where the red channel is above the mean, else class 1 (flip- and scale-equivariant). */
const pointwise: InferenceModel = { apply: (x) => tf.tidy(() => tf.concat([x.slice([0, 0, 0, 0], [-1, -1, -1, 1]), x.slice([0, 0, 0, 0], [-1, -1, -1, 1]).neg()], 3)) as tf.Tensor4D };
function halves(height: number, width: number): RasterImage {
  const data = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[(y * width + x) * 3] = x < width / 2 ? 255 : 0;
  return { width, height, channels: 3, data };
}

/** Pixels from a seeded generator. */
function randomImage(height: number, width: number, seed: number): RasterImage {
  let state = seed;
  const data = new Uint8Array(height * width * 3).map(() => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % 256));
  return { width, height, channels: 3, data };
}

describe('predictTrainIds', () => {
  it('predicts per pixel; flip and scales average back in image coordinates', async () => {
    const image = halves(8, 16);
    const single = await predictTrainIds(pointwise, image, { kernels });
    expect(single.length).toBe(8 * 16);
    expect(single[0]).toBe(0);
    expect(single[15]).toBe(1);
    // Had the flipped logits not been flipped back, left and right would tie everywhere (all class 0).
    expect(await predictTrainIds(pointwise, image, { kernels, flip: true })).toEqual(single);
    const multi = await predictTrainIds(pointwise, image, { kernels, scales: [0.5, 1, 1.5], flip: true });
    expect(multi.filter((id, i) => id === single[i]).length).toBe(single.length);
  });

  it('refuses before any work a tile or a scale below the output stride, and a scale whose inference would not fit in memory', async () => {
    const gib = 2 ** 30;
    expect(() => checkPredictSizes(1024, 2048, { tile: [7, 9], outputStride: 8 })).toThrow('tile 7×9: smaller than the network\'s output stride 8; use tiles of at least 8×8 (larger tiles see more context)');
    expect(() => checkPredictSizes(1024, 2048, { scales: [0.01], outputStride: 32 })).toThrow("scale 0.01: makes the 1024×2048 input 10×20, smaller than the network's output stride 32");
    expect(() => checkPredictSizes(1, 1, { scales: [1e9] }, 24 * gib)).toThrow('scale 1000000000: makes the 1×1 input 1000000000×1000000000; its inference would need about 9.5e+11 GB, this machine has 24.0 GB (lower the scale or the tile)');
    expect(() => checkPredictSizes(1024, 2048, { scales: [2] }, 1 * gib)).toThrow(/scale 2: makes the 1024×2048 input 2048×4096; its inference would need about 8\.0 GB, this machine has 1\.0 GB/);
    expect(() => checkPredictSizes(1024, 2048, { scales: [0.75, 1, 1.25], tile: [513, 513], outputStride: 16 }, 24 * gib)).not.toThrow();
    // predictTrainIds checks first: nothing runs.
    await expect(predictTrainIds(pointwise, halves(8, 16), { kernels, scales: [0.1], outputStride: 8 })).rejects.toThrow(/scale 0\.1: makes the 8×16 input 1×2/);
  });

  it('splits a long side into overlapping tiles, each kept up to the middle of its overlaps', () => {
    expect(tileSpans(100, 128, 40)).toEqual([{ start: 0, length: 100, keepFrom: 0, keepTo: 100 }]);
    // Starts 0, 24, 48 and 52 (flush with the end); borders in the middle of each shared run.
    expect(tileSpans(100, 48, 24)).toEqual([
      { start: 0, length: 48, keepFrom: 0, keepTo: 36 },
      { start: 24, length: 48, keepFrom: 36, keepTo: 60 },
      { start: 48, length: 48, keepFrom: 60, keepTo: 74 },
      { start: 52, length: 48, keepFrom: 74, keepTo: 100 },
    ]);
    expect(() => tileSpans(100, 48, 48)).toThrow(/^tile 48 with overlap 48: /);
    expect(DEFAULT_TILE).toEqual([1025, 2049]);
  });

  it('predicts a large image in tiles, each within the tile size, equal to whole-image inference for a model whose context fits the overlap', async () => {
    // Logits: red and green averaged over a 5×5 window (context 2 pixels each side).
    const inputs: number[][] = [];
    const local: InferenceModel = {
      apply: (x) => {
        inputs.push(x.shape.slice(1, 3));
        return tf.tidy(() => tf.avgPool(x.slice([0, 0, 0, 0], [-1, -1, -1, 2]), 5, 1, 'same')) as tf.Tensor4D;
      },
    };
    const image = randomImage(37, 53, 3);
    const whole = await predictTrainIds(local, image, { kernels, tile: [64, 64] });
    expect(inputs).toEqual([[37, 53]]);
    inputs.length = 0;
    const before = tf.memory().numTensors;
    const tiles: string[] = [];
    const tiled = await predictTrainIds(local, image, { kernels, tile: [16, 20], tileOverlap: [6, 8], onTile: (done, total) => tiles.push(`${done}/${total}`) });
    expect(tiles).toEqual(Array.from({ length: 16 }, (_, i) => `${i + 1}/16`));
    expect(tf.memory().numTensors).toBe(before);
    expect(inputs.length).toBe(4 * 4);
    for (const [height, width] of inputs) expect(height <= 16 && width <= 20).toBe(true);
    expect(new Set(whole).size).toBe(2);
    expect(Array.from(tiled)).toEqual(Array.from(whole));
    // With flip too (multi-scale is not: aligned-corner resizing of a tile is not a crop of the resized image).
    const flipped = await predictTrainIds(local, image, { kernels, flip: true, tile: [16, 20], tileOverlap: [6, 8] });
    expect(Array.from(flipped)).toEqual(Array.from(await predictTrainIds(local, image, { kernels, flip: true })));
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    await predictTrainIds(pointwise, halves(8, 8), { kernels, scales: [0.75, 1.25], flip: true });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('evaluateSamples', () => {
  it('scores full images and writes label-id, colour, overlay and comparison PNGs with the tables', async () => {
    const root = await createFakeCityscapes({ train: 1, val: 2, height: 16, width: 32 });
    const samples = await listSplit(root, 'val');
    const outDir = await mkdtemp(join(tmpdir(), 'adl-eval-'));
    const constant: InferenceModel = { apply: (x) => tf.tidy(() => tf.oneHot(tf.zeros(x.shape.slice(0, 3), 'int32'), 19).toFloat()) as tf.Tensor4D };
    const report = await evaluateSamples(constant, samples, { kernels, numClasses: 19, outDir, classNames: Array.from({ length: 19 }, (_, i) => `c${i}`) });
    // By hand: every counted pixel predicted road, so IoU(road) = road pixels / counted pixels = pixel accuracy.
    let road = 0;
    let counted = 0;
    for (const sample of samples) {
      const { trainIds } = await loadSample(sample);
      for (const id of trainIds) if (id !== 255) (counted++, (road += id === 0 ? 1 : 0));
    }
    expect(report.metrics.pixels).toBe(counted);
    expect(report.metrics.pixelAccuracy).toBeCloseTo(road / counted, 12);
    expect(report.metrics.iou[0]).toBeCloseTo(road / counted, 12);
    expect(report.files).toHaveLength(2);
    const written = await readdir(join(outDir, 'predictions'));
    expect(written.filter((f) => f.endsWith('.png'))).toHaveLength(6);
    // The label ids alone, one per image, named as cityscapesScripts looks them up (`*<city>_<seq>_<frame>*.png`).
    expect((await readdir(join(outDir, 'submission'))).sort()).toEqual(samples.map((s) => `${s.name}_labelIds.png`).sort());
    expect(report.files[0].labelIds).toBe(`submission/${samples[0].name}_labelIds.png`);
    // With pictures for the first image only, submission/ still holds every image's label ids.
    const fewer = await mkdtemp(join(tmpdir(), 'adl-eval-'));
    await evaluateSamples(constant, samples, { kernels, numClasses: 19, outDir: fewer, imagesWritten: 1 });
    expect(await readdir(join(fewer, 'submission'))).toHaveLength(2);
    expect(await readdir(join(fewer, 'predictions'))).toHaveLength(3);
    const labelIds = await readPng(join(outDir, report.files[0].labelIds), 1);
    expect(new Set(labelIds.data)).toEqual(new Set([7]));
    const compare = await readPng(join(outDir, report.files[0].compare), 3);
    expect([compare.width, compare.height]).toEqual([3 * 32 + 8, 16]);
    const metrics = JSON.parse(await readFile(join(outDir, 'metrics.json'), 'utf8'));
    expect(metrics.classes[0]).toEqual({ trainId: 0, name: 'c0', iou: report.metrics.iou[0] });
    expect(await readFile(join(outDir, 'iou.md'), 'utf8')).toMatch(/\*\*mIoU\*\*/);
  });
});

describe('measureLatency', () => {
  it('times warm runs of the forward pass', async () => {
    const before = tf.memory().numTensors;
    const result = await measureLatency(pointwise, { height: 16, width: 32, kernels, runs: 3 });
    expect(result.runs).toBe(3);
    expect(result.minMs).toBeLessThanOrEqual(result.medianMs);
    expect(result.medianMs).toBeLessThanOrEqual(result.maxMs);
    expect(result.imagesPerSecond).toBeCloseTo(1000 / result.medianMs, 9);
    expect(tf.memory().numTensors).toBe(before);
  });
});
