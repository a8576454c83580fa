import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { augment, cropAndNormalize, DEFAULT_AUGMENT, scaledCrop, slidingWindows, type LabelledImage } from './augment.js';
import { BatchLoader, DatasetErrors, type Batch } from './batch-loader.js';
import { DatasetError } from './dataset-error.js';
import { listSplit } from './layout.js';
import { loadSample } from './load-sample.js';
import { writePng } from './png.js';
import { SeededRandom } from './seeded-random.js';
import { splitTrainAB } from './split.js';
import { generateSynthetic } from './synthetic.js';

/** Reference: resize the whole image (bilinear, half-pixel centres; labels nearest), to crop afterwards. */
function resize({ image, trainIds }: LabelledImage, height: number, width: number): LabelledImage {
  const { width: w0, height: h0, data } = image;
  const pixels = new Uint8Array(height * width * 3);
  const labels = new Uint8Array(height * width);
  const sy = h0 / height;
  const sx = w0 / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h0 - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h0 - 1);
    const wy = fy - y0;
    const ny = Math.min(Math.floor((y + 0.5) * sy), h0 - 1);
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w0 - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w0 - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const top = data[(y0 * w0 + x0) * 3 + c] * (1 - wx) + data[(y0 * w0 + x1) * 3 + c] * wx;
        const bottom = data[(y1 * w0 + x0) * 3 + c] * (1 - wx) + data[(y1 * w0 + x1) * 3 + c] * wx;
        pixels[(y * width + x) * 3 + c] = Math.round(top * (1 - wy) + bottom * wy);
      }
      labels[y * width + x] = trainIds[ny * w0 + Math.min(Math.floor((x + 0.5) * sx), w0 - 1)];
    }
  }
  return { image: { width, height, channels: 3, data: pixels }, trainIds: labels };
}


let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-cs-test-'));
  await generateSynthetic({ dir: root, count: { train: 6, val: 2 }, height: 48, width: 96, seed: 3 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function copyDataset(): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'adl-cs-bad-'));
  await generateSynthetic({ dir: copy, count: { train: 4 }, height: 48, width: 96, seed: 3 });
  return copy;
}

describe('the Cityscapes layout', () => {
  it('generates the exact Cityscapes folders and file names', async () => {
    expect(await readdir(root)).toEqual(['gtFine', 'leftImg8bit']);
    expect(await readdir(join(root, 'leftImg8bit'))).toEqual(['train', 'val']);
    expect(await readdir(join(root, 'leftImg8bit/train/synthcity'))).toContain('synthcity_000000_000019_leftImg8bit.png');
    expect(await readdir(join(root, 'gtFine/val/synthcity'))).toEqual([
      'synthcity_000006_000019_gtFine_instanceIds.png',
      'synthcity_000006_000019_gtFine_labelIds.png',
      'synthcity_000007_000019_gtFine_instanceIds.png',
      'synthcity_000007_000019_gtFine_labelIds.png',
    ]);
  });

  it('lists a split with image and label paired by name, sorted', async () => {
    const samples = await listSplit(root, 'train');
    expect(samples.map((s) => s.name)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `synthcity_00000${i}_000019`));
    expect(samples[0].labelFile).toBe('gtFine/train/synthcity/synthcity_000000_000019_gtFine_labelIds.png');
  });

  it('generated scenes hold at least 8 training classes, with label ids only', async () => {
    const classes = new Set<number>();
    for (const sample of await listSplit(root, 'train')) for (const id of (await loadSample(sample)).trainIds) classes.add(id);
    classes.delete(255);
    expect(classes.size).toBeGreaterThanOrEqual(8);
  });

  it('is deterministic for a seed', async () => {
    const other = await mkdtemp(join(tmpdir(), 'adl-cs-det-'));
    await generateSynthetic({ dir: other, count: { train: 6, val: 2 }, height: 48, width: 96, seed: 3 });
    const file = 'leftImg8bit/train/synthcity/synthcity_000004_000019_leftImg8bit.png';
    expect(await readFile(join(other, file))).toEqual(await readFile(join(root, file)));
    await rm(other, { recursive: true });
  });
});

describe('bad input names the file and the problem', () => {
  it('a missing folder', async () => {
    await expect(listSplit(root, 'test')).rejects.toThrow(/^leftImg8bit\/test: missing folder under /);
  });

  it('an image without its label', async () => {
    const dir = await copyDataset();
    await rm(join(dir, 'gtFine/train/synthcity/synthcity_000002_000019_gtFine_labelIds.png'));
    await expect(listSplit(dir, 'train')).rejects.toThrow(
      'leftImg8bit/train/synthcity/synthcity_000002_000019_leftImg8bit.png: no label gtFine/train/synthcity/synthcity_000002_000019_gtFine_labelIds.png',
    );
  });

  it('a label of another size than its image', async () => {
    const dir = await copyDataset();
    const [sample] = await listSplit(dir, 'train');
    await writePng(join(dir, sample.labelFile), { width: 50, height: 20, channels: 1, data: new Uint8Array(1000).fill(7) });
    await expect(loadSample(sample)).rejects.toThrow(`${sample.labelFile}: 20×50 label for a 48×96 image`);
  });

  it('a truncated PNG and a file that is not a PNG', async () => {
    const dir = await copyDataset();
    const [first, second] = await listSplit(dir, 'train');
    await truncate(join(dir, first.imageFile), 200);
    await expect(loadSample(first)).rejects.toThrow(new RegExp(`^${first.imageFile}: cannot decode PNG`));
    await writeFile(join(dir, second.labelFile), 'not a png');
    await expect(loadSample(second)).rejects.toThrow(new RegExp(`^${second.labelFile}: cannot decode PNG`));
  });

  it('label values that are not Cityscapes label ids', async () => {
    const dir = await copyDataset();
    const [sample] = await listSplit(dir, 'train');
    const values = new Uint8Array(48 * 96).fill(7);
    values[96 * 2 + 5] = 200;
    await writePng(join(dir, sample.labelFile), { width: 96, height: 48, channels: 1, data: values });
    await expect(loadSample(sample)).rejects.toThrow(`${sample.labelFile}: value 200 at (x 5, y 2) is not a Cityscapes label id (0–33)`);
  });

  it('a 16-bit label holds raw ids: read as they are and checked like 8-bit ones', async () => {
    const dir = await copyDataset();
    const [sample] = await listSplit(dir, 'train');
    // Label id 7 (road) is train id 0, 26 (car) is 13, 0 (unlabeled) is ignored.
    const ids = new Uint16Array(48 * 96).fill(7);
    ids[1] = 26;
    ids[2] = 0;
    await writePng16(join(dir, sample.labelFile), ids, 96, 48, 1);
    const loaded = await loadSample(sample);
    expect(Array.from(loaded.trainIds.slice(0, 4))).toEqual([0, 13, 255, 0]);
    ids[96 * 3 + 4] = 1000;
    await writePng16(join(dir, sample.labelFile), ids, 96, 48, 1);
    await expect(loadSample(sample)).rejects.toThrow(`${sample.labelFile}: value 1000 at (x 4, y 3) is not a Cityscapes label id (0–33)`);
  });

  it('a colour or alpha label file is refused by name, a 16-bit RGB image is read to 8 bits', async () => {
    const dir = await copyDataset();
    const [sample] = await listSplit(dir, 'train');
    await writePng(join(dir, sample.labelFile), { width: 96, height: 48, channels: 3, data: new Uint8Array(48 * 96 * 3).fill(7) });
    await expect(loadSample(sample)).rejects.toThrow(`${sample.labelFile}: cannot decode PNG (3-channel PNG; a label map must be single-channel grayscale ids)`);
    await sharp(new Uint8Array(48 * 96 * 4).fill(7), { raw: { width: 96, height: 48, channels: 4 } }).png().toFile(join(dir, sample.labelFile));
    await expect(loadSample(sample)).rejects.toThrow(`${sample.labelFile}: cannot decode PNG (4-channel PNG; a label map must be single-channel grayscale ids)`);
    // 16-bit RGB: sample v·257 is the 8-bit value v.
    await writeFile(join(dir, sample.labelFile), await readFile(join(root, sample.labelFile)));
    const rgb = new Uint16Array(48 * 96 * 3).map((_, i) => (i % 251) * 257);
    await writePng16(join(dir, sample.imageFile), rgb, 96, 48, 3);
    const { image } = await loadSample(sample);
    expect(Array.from(image.data.slice(0, 6))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(image.data[300]).toBe(300 % 251);
  });

  it('a run stops with the list of bad files, or skips them with a count, as configured', async () => {
    const dir = await copyDataset();
    const samples = await listSplit(dir, 'train');
    await writeFile(join(dir, samples[1].imageFile), 'broken');
    await writeFile(join(dir, samples[3].labelFile), 'broken');
    const options = { samples, batchSize: 4, augment: { ...DEFAULT_AUGMENT, crop: [32, 32] as const } };
    const stop = new BatchLoader({ ...options, onBadFile: 'stop' });
    const error = await stop.load({ epoch: 0, batch: 0 }).catch((e) => e);
    expect(error).toBeInstanceOf(DatasetErrors);
    expect((error as DatasetErrors).errors.map((e) => e.file).sort()).toEqual([samples[1].imageFile, samples[3].labelFile].sort());
    expect(error.message).toMatch(/^2 unusable file\(s\):\n {2}leftImg8bit|^2 unusable file\(s\):\n {2}gtFine/);
    const reported: string[] = [];
    const skip = new BatchLoader({ ...options, onBadFile: 'skip', onSkip: (e, n) => reported.push(`${n}:${e.file}`) });
    const batch = await skip.load({ epoch: 0, batch: 0 });
    expect(batch.size).toBe(2);
    expect(skip.skipped).toHaveLength(2);
    expect(reported.map((r) => r.split(':')[0])).toEqual(['1', '2']);
  });

  it('DatasetError carries the file and the problem', () => {
    const error = new DatasetError('gtFine/val/x.png', '1024×2048 label for a 1024×1024 image');
    expect(error.message).toBe('gtFine/val/x.png: 1024×2048 label for a 1024×1024 image');
    expect(error.file).toBe('gtFine/val/x.png');
  });
});

describe('augmentation', () => {
  const sample = () => {
    const width = 40;
    const height = 30;
    const data = new Uint8Array(width * height * 3).map((_, i) => (i * 7) % 256);
    const trainIds = new Uint8Array(width * height).map((_, i) => i % 19);
    return { image: { width, height, channels: 3 as const, data }, trainIds };
  };

  it('is identical for the same seed and differs for another', () => {
    const options = { ...DEFAULT_AUGMENT, crop: [24, 24] as const };
    const a = augment(sample(), options, new SeededRandom(5));
    const b = augment(sample(), options, new SeededRandom(5));
    const c = augment(sample(), options, new SeededRandom(6));
    expect(a.pixels).toEqual(b.pixels);
    expect(a.trainIds).toEqual(b.trainIds);
    expect(a.pixels).not.toEqual(c.pixels);
  });

  it('pads the crop with label 255 and normalised zeros where the image ends', () => {
    const example = cropAndNormalize(sample(), 20, 30, [16, 16], { mean: [10, 20, 30], std: [2, 2, 2] });
    // Rows 20..29 and columns 30..39 exist: a 10×10 block; the rest is padding.
    expect(example.trainIds[0]).toBe((20 * 40 + 30) % 19);
    expect(example.trainIds[10]).toBe(255);
    expect(example.trainIds[10 * 16]).toBe(255);
    expect(example.pixels[10 * 3]).toBe(0);
    expect(example.pixels[0]).toBeCloseTo((((20 * 40 + 30) * 3 * 7) % 256 - 10) / 2, 5);
    const labelled = Array.from(example.trainIds).filter((id) => id !== 255).length;
    expect(labelled).toBe(100);
    // A crop past the bottom only: every row below the image is padding, its first pixel included.
    const below = cropAndNormalize(sample(), 20, 0, [16, 16], { mean: [0, 0, 0], std: [1, 1, 1] });
    expect(Array.from(below.trainIds.slice(10 * 16))).toEqual(Array(6 * 16).fill(255));
    expect(Array.from(below.pixels.slice(10 * 16 * 3))).toEqual(Array(6 * 16 * 3).fill(0));
  });

  it('flips horizontally', () => {
    const plain = cropAndNormalize(sample(), 0, 0, [30, 40], { mean: [0, 0, 0], std: [1, 1, 1] });
    const flipped = cropAndNormalize(sample(), 0, 0, [30, 40], { mean: [0, 0, 0], std: [1, 1, 1] }, true);
    expect(flipped.trainIds[0]).toBe(plain.trainIds[39]);
    expect(flipped.pixels[3 * 39 + 2]).toBe(plain.pixels[2]);
  });

  it('scaled crops equal resizing the whole image, then cropping', () => {
    const options = { mean: [1, 2, 3] as const, std: [2, 3, 4] as const };
    for (const [scale, top, left, flip] of [
      [1.5, 7, 11, false],
      [0.7, 3, 2, true],
      [2, 40, 60, false],
    ] as const) {
      const h = Math.round(30 * scale);
      const w = Math.round(40 * scale);
      const direct = scaledCrop(sample(), scale, top, left, [20, 24], options, flip);
      const reference = cropAndNormalize(resize(sample(), h, w), top, left, [20, 24], options, flip);
      expect(direct.trainIds).toEqual(reference.trainIds);
      expect(direct.pixels).toEqual(reference.pixels);
    }
  });

  it('resamples labels by nearest neighbour (no new label values)', () => {
    const scaled = scaledCrop(sample(), 1.7, 3, 5, [40, 50], { mean: [0, 0, 0], std: [1, 1, 1] });
    const before = new Set([...sample().trainIds, 255]);
    for (const id of scaled.trainIds) expect(before.has(id)).toBe(true);
  });

  it('sliding windows cover the image for evaluation', () => {
    expect(slidingWindows(1024, 2048, [513, 513], [400, 400])).toEqual(
      [0, 400, 511].flatMap((top) => [0, 400, 800, 1200, 1535].map((left) => [top, left])),
    );
    expect(slidingWindows(100, 100, [321, 321])).toEqual([[0, 0]]);
    // The stride defaults to the crop; windows that fit exactly are not repeated.
    expect(slidingWindows(64, 96, [32, 32])).toEqual([0, 32].flatMap((top) => [0, 32, 64].map((left) => [top, left])));
    expect(slidingWindows(32, 40, [32, 32])).toEqual([[0, 0], [0, 8]]);
  });

  describe('samples scale, crop position and flip as configured', () => {
    // A ramp: red = 6·x, green = 8·y, so a crop's first pixel tells where it was taken, and the
    // step between neighbours tells the scale.
    const ramp = (): LabelledImage => {
      const [width, height] = [40, 30];
      const data = new Uint8Array(width * height * 3);
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([6 * x, 8 * y, 0], (y * width + x) * 3);
      return { image: { width, height, channels: 3, data }, trainIds: new Uint8Array(width * height).fill(1) };
    };
    const raw = { mean: [0, 0, 0] as const, std: [1, 1, 1] as const };
    const crops = (options: Partial<typeof DEFAULT_AUGMENT>, draws = 200) =>
      Array.from({ length: draws }, (_, seed) => {
        const { pixels, trainIds } = augment(ramp(), { ...DEFAULT_AUGMENT, ...raw, crop: [8, 8], ...options }, new SeededRandom(seed));
        const red = (x: number) => pixels[3 * x];
        return { pixels, trainIds, left: red(0) / 6, top: pixels[1] / 8, step: (red(7) - red(0)) / 7 };
      });

    it('at scale 1: an exact window of the image, at every position from the first to the last', () => {
      const windows = crops({ scale: [1, 1], flip: 0 });
      for (const { pixels, trainIds, left, top } of windows) {
        expect(pixels).toHaveLength(8 * 8 * 3);
        expect(trainIds).toEqual(new Uint8Array(64).fill(1));
        for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) expect([pixels[(y * 8 + x) * 3], pixels[(y * 8 + x) * 3 + 1]]).toEqual([6 * (left + x), 8 * (top + y)]);
      }
      const range = (values: number[]) => [Math.min(...values), Math.max(...values)];
      expect(range(windows.map((w) => w.top))).toEqual([0, 30 - 8]);
      expect(range(windows.map((w) => w.left))).toEqual([0, 40 - 8]);
    });

    it('flips with the configured probability: never at 0, always at 1, about half the time at 0.5', () => {
      expect(crops({ scale: [1, 1], flip: 0 }).every((w) => w.step === 6)).toBe(true);
      expect(crops({ scale: [1, 1], flip: 1 }).every((w) => w.step === -6)).toBe(true);
      const flipped = crops({ scale: [1, 1], flip: 0.5 }).filter((w) => w.step < 0).length;
      expect(flipped).toBeGreaterThan(70);
      expect(flipped).toBeLessThan(130);
    });

    it('scales the image by a factor drawn from the range before cropping', () => {
      // Twice as large: neighbours differ by half as much, and crops start anywhere in the 60×80 image.
      const doubled = crops({ scale: [2, 2], flip: 0 });
      expect(doubled.every((w) => Math.abs(w.step - 3) < 0.3)).toBe(true);
      expect(Math.max(...doubled.map((w) => w.top))).toBeGreaterThan(25);
      const halved = crops({ scale: [0.5, 0.5], flip: 0 });
      expect(halved.every((w) => w.step === 12)).toBe(true);
      // DeepLab's range [0.5, 2]: every scale falls inside it, and both ends are visited.
      const scales = crops({ scale: [0.5, 2], flip: 0 }).map((w) => 6 / w.step);
      expect(Math.min(...scales)).toBeGreaterThan(0.45);
      expect(Math.max(...scales)).toBeLessThan(2.1);
      expect(scales.filter((s) => s < 0.7).length).toBeGreaterThan(10);
      expect(scales.filter((s) => s > 1.6).length).toBeGreaterThan(10);
    });

    it('keeps every value finite at the far edges of an upscaled image', () => {
      const corner = scaledCrop(ramp(), 2.5, 75 - 8, 100 - 8, [8, 8], raw);
      expect(corner.pixels.every(Number.isFinite)).toBe(true);
      expect(corner.pixels[(7 * 8 + 7) * 3]).toBe(6 * 39);
      expect(corner.pixels[(7 * 8 + 7) * 3 + 1]).toBe(8 * 29);
    });
  });
});

describe('batches', () => {
  const collect = async (loader: BatchLoader, epochs: number, from?: { epoch: number; batch: number }) => {
    const batches: Batch[] = [];
    for await (const batch of loader.batches(epochs, from)) batches.push(batch);
    return batches;
  };
  const options = async () => ({
    samples: await listSplit(root, 'train'),
    batchSize: 2,
    seed: 9,
    augment: { ...DEFAULT_AUGMENT, crop: [32, 48] as const },
  });

  it('are NHWC float images and train ids of the crop size, reproducible whatever the prefetch depth', async () => {
    const a = await collect(new BatchLoader({ ...(await options()), prefetch: 0 }), 2);
    const b = await collect(new BatchLoader({ ...(await options()), prefetch: 3 }), 2);
    expect(a).toHaveLength(6);
    expect(a[0].images).toHaveLength(2 * 32 * 48 * 3);
    expect(a[0].trainIds).toHaveLength(2 * 32 * 48);
    expect(a.map((x) => x.names)).toEqual(b.map((x) => x.names));
    expect(a[5].images).toEqual(b[5].images);
    // Epochs are shuffled differently.
    expect(a.slice(0, 3).map((x) => x.names)).not.toEqual(a.slice(3).map((x) => x.names));
  });

  it('resumed at a position, give the same batches as an uninterrupted run', async () => {
    const full = await collect(new BatchLoader(await options()), 2);
    const resumed = await collect(new BatchLoader(await options()), 2, { epoch: 1, batch: 1 });
    expect(resumed.map((b) => [b.epoch, b.batch])).toEqual([
      [1, 1],
      [1, 2],
    ]);
    expect(resumed[0].images).toEqual(full[4].images);
    expect(resumed[1].trainIds).toEqual(full[5].trainIds);
  });

  it('orders samples by city, then name, before the split: the same names in two cities split the same whatever the input order', () => {
    const samples = ['b', 'a'].flatMap((city) => ['x', 'y', 'z'].map((name) => ({ city, name })));
    const forward = splitTrainAB(samples, 3);
    const backward = splitTrainAB([...samples].reverse(), 3);
    expect(backward).toEqual(forward);
    expect([...forward.trainA, ...forward.trainB].map((s) => `${s.city}/${s.name}`).sort()).toEqual(['a/x', 'a/y', 'a/z', 'b/x', 'b/y', 'b/z']);
  });

  it('splits trainA / trainB into disjoint halves, deterministically and whatever the input order', async () => {
    const samples = await listSplit(root, 'train');
    const { trainA, trainB } = splitTrainAB(samples, 1);
    expect(trainA).toHaveLength(3);
    expect(trainB).toHaveLength(3);
    expect(new Set([...trainA, ...trainB].map((s) => s.name)).size).toBe(6);
    const again = splitTrainAB([...samples].reverse(), 1);
    expect(again.trainA.map((s) => s.name)).toEqual(trainA.map((s) => s.name));
  });
});

/** Writes a 16-bit PNG (grayscale or RGB) of the samples as given. */
async function writePng16(path: string, samples: Uint16Array, width: number, height: number, channels: 1 | 3): Promise<void> {
  await sharp(samples, { raw: { width, height, channels } })
    .toColourspace(channels === 1 ? 'grey16' : 'rgb16')
    .png()
    .toFile(path);
}
