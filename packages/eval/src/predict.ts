import { totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { IMAGENET_MEAN, IMAGENET_STD, windowStarts, type RasterImage } from '@adl/data-cityscapes';
import { resizeBilinear } from '@adl/ops';
import type { Kernels } from '@adl/backend';
import type { InferenceModel } from './model.js';

/** DeepLab's Cityscapes evaluation crop: a whole 1024×2048 image is one tile, predicted whole as in the paper. */
export const DEFAULT_TILE: readonly [number, number] = [1025, 2049];

export interface PredictOptions {
  readonly kernels: Kernels;
  /**
   * An image larger than this ([height, width]; default `DEFAULT_TILE`) is predicted in overlapping
   * tiles of at most this size, so memory is bounded by the tile, not the image. With several
   * scales each tile is resized on its own (aligned corners: not a crop of the resized image).
   */
  readonly tile?: readonly [number, number];
  /**
   * Rows and columns neighbouring tiles share (default a third of the tile). Each pixel is taken from
   * the tile it lies deepest in, so every prediction sees at least half the overlap of context on each side.
   */
  readonly tileOverlap?: readonly [number, number];
  /** Called after each tile of an image predicted in tiles (progress on large images). */
  readonly onTile?: (done: number, total: number) => void;
  /** Input scales whose class probabilities are averaged (DeepLab's multi-scale test: 0.75, 1, 1.25 …). */
  readonly scales?: readonly number[];
  /** Also average the horizontally flipped input's probabilities. */
  readonly flip?: boolean;
  readonly mean?: readonly [number, number, number];
  readonly std?: readonly [number, number, number];
  /**
   * The network's output stride (4 · 2^deepest level of its path): a tile or a scaled image smaller
   * than it is refused, its coarsest features would be under one pixel (default 4, no check beyond
   * what any network of the space needs).
   */
  readonly outputStride?: number;
}

/** What inference holds per input pixel, about: the network's activations at their peak (autodeeplab-s, measured ~1 KB). */
export const INFERENCE_BYTES_PER_PIXEL = 1024;

export class PredictSizeError extends RangeError {
  override name = 'PredictSizeError';
}

/**
 * Refuses, before any work, the sizes an image, its tiles and its scales imply that cannot run: a
 * piece smaller than the network's output stride, or one whose inference would need more memory than
 * the machine has (`INFERENCE_BYTES_PER_PIXEL`).
 */
export function checkPredictSizes(height: number, width: number, { tile = DEFAULT_TILE, scales = [1], outputStride = 4 }: Pick<PredictOptions, 'tile' | 'scales' | 'outputStride'>, memoryBytes = totalmem()): void {
  if (tile[0] < outputStride || tile[1] < outputStride) {
    throw new PredictSizeError(`tile ${tile[0]}×${tile[1]}: smaller than the network's output stride ${outputStride}; use tiles of at least ${outputStride}×${outputStride} (larger tiles see more context)`);
  }
  const piece = [Math.min(height, tile[0]), Math.min(width, tile[1])];
  for (const scale of scales) {
    if (!(Number.isFinite(scale) && scale > 0)) throw new PredictSizeError(`scale ${scale}: must be a positive number`);
    const [h, w] = piece.map((side) => Math.max(1, Math.round(side * scale)));
    if (Math.min(h, w) < outputStride && Math.min(...piece) >= outputStride) {
      throw new PredictSizeError(`scale ${scale}: makes the ${piece[0]}×${piece[1]} input ${h}×${w}, smaller than the network's output stride ${outputStride}`);
    }
    const bytes = h * w * INFERENCE_BYTES_PER_PIXEL;
    if (bytes > memoryBytes) {
      throw new PredictSizeError(`scale ${scale}: makes the ${piece[0]}×${piece[1]} input ${h}×${w}; its inference would need about ${gigabytes(bytes)} GB, this machine has ${gigabytes(memoryBytes)} GB (lower the scale or the tile)`);
    }
  }
}

const gigabytes = (bytes: number) => (bytes / 2 ** 30 >= 100 ? (bytes / 2 ** 30).toExponential(1) : (bytes / 2 ** 30).toFixed(1));

/** An RGB image as a normalised [1, H, W, 3] tensor. */
export function imageTensor(image: RasterImage, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): tf.Tensor4D {
  const pixels = new Float32Array(image.width * image.height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (image.data[i] - mean[i % 3]) / std[i % 3];
  return tf.tensor4d(pixels, [1, image.height, image.width, 3]);
}

/** One tile along an axis: where it starts, its length, and the part of it whose predictions are kept. */
interface TileSpan {
  readonly start: number;
  readonly length: number;
  readonly keepFrom: number;
  readonly keepTo: number;
}

/** Tiles of at most `tile` covering `length`, `overlap` apart, each keeping up to the middle of its overlaps. */
export function tileSpans(length: number, tile: number, overlap: number): TileSpan[] {
  if (!(Number.isInteger(tile) && tile >= 1 && Number.isInteger(overlap) && overlap >= 0 && overlap < tile)) {
    throw new RangeError(`tile ${tile} with overlap ${overlap}: the tile must be a positive integer and the overlap an integer from 0 to tile − 1`);
  }
  const starts = windowStarts(length, tile, tile - overlap);
  const size = Math.min(tile, length);
  // The border between two tiles: the middle of the rows they share.
  const borders = starts.slice(1).map((start, i) => Math.floor((start + starts[i] + size) / 2));
  return starts.map((start, i) => ({ start, length: size, keepFrom: i ? borders[i - 1] : 0, keepTo: i < borders.length ? borders[i] : length }));
}

/** The pixels of a window of an image. */
function cropImage(image: RasterImage, top: number, left: number, height: number, width: number): RasterImage {
  if (top === 0 && left === 0 && height === image.height && width === image.width) return image;
  const data = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) data.set(image.data.subarray(((top + y) * image.width + left) * 3, ((top + y) * image.width + left + width) * 3), y * width * 3);
  return { width, height, channels: 3, data };
}

/**
 * Per-pixel train ids of an image in evaluation mode. With several scales and/or flip, the softmax
 * probabilities of every variant, resized back to the input size, are averaged before the arg-max (as
 * DeepLab's multi-scale inference). An image larger than `tile` is predicted tile by tile (overlapping
 * sliding windows, each pixel from the tile it lies deepest in); one that fits is predicted whole.
 */
export async function predictTrainIds(model: InferenceModel, image: RasterImage, options: PredictOptions): Promise<Int32Array> {
  checkPredictSizes(image.height, image.width, options);
  const tile = options.tile ?? DEFAULT_TILE;
  const overlap = options.tileOverlap ?? [Math.floor(tile[0] / 3), Math.floor(tile[1] / 3)];
  const rows = tileSpans(image.height, tile[0], overlap[0]);
  const columns = tileSpans(image.width, tile[1], overlap[1]);
  if (rows.length === 1 && columns.length === 1) return predictWhole(model, image, options);
  const ids = new Int32Array(image.height * image.width);
  let done = 0;
  for (const row of rows) {
    for (const column of columns) {
      const tileIds = await predictWhole(model, cropImage(image, row.start, column.start, row.length, column.length), options);
      for (let y = row.keepFrom; y < row.keepTo; y++) {
        const from = (y - row.start) * column.length + column.keepFrom - column.start;
        ids.set(tileIds.subarray(from, from + column.keepTo - column.keepFrom), y * image.width + column.keepFrom);
      }
      options.onTile?.(++done, rows.length * columns.length);
    }
  }
  return ids;
}

/** Per-pixel train ids of an image predicted in one piece (see `predictTrainIds`). */
async function predictWhole(model: InferenceModel, image: RasterImage, options: PredictOptions): Promise<Int32Array> {
  const { kernels, scales = [1], flip = false } = options;
  const ctx = { training: false, kernels };
  const prediction = tf.tidy(() => {
    const x = imageTensor(image, options.mean, options.std);
    const size: [number, number] = [image.height, image.width];
    let sum: tf.Tensor4D | undefined;
    for (const scale of scales) {
      const scaled: [number, number] = [Math.max(1, Math.round(image.height * scale)), Math.max(1, Math.round(image.width * scale))];
      const input = scale === 1 ? x : resizeBilinear(x, scaled);
      for (const flipped of flip ? [false, true] : [false]) {
        let logits = model.apply(flipped ? tf.reverse(input, 2) : input, ctx);
        if (flipped) logits = tf.reverse(logits, 2);
        if (scale !== 1) logits = resizeBilinear(logits, size);
        const probabilities = tf.softmax(logits) as tf.Tensor4D;
        sum = sum ? (tf.add(sum, probabilities) as tf.Tensor4D) : probabilities;
      }
    }
    return tf.argMax(sum!, 3).reshape([image.height * image.width]);
  });
  const ids = (await prediction.data()) as Int32Array;
  prediction.dispose();
  return ids;
}
