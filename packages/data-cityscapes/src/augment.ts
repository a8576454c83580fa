import { IGNORE_INDEX } from './labels.js';
import type { RasterImage } from './png.js';
import type { SeededRandom } from './seeded-random.js';

/** An RGB image and its train-id map of the same size. */
export interface LabelledImage {
  readonly image: RasterImage;
  readonly trainIds: Uint8Array;
}

/** A network input: normalised HWC floats and train ids. */
export interface TrainingExample {
  readonly height: number;
  readonly width: number;
  /** `height · width · 3` normalised values. */
  readonly pixels: Float32Array;
  /** `height · width` train ids, 255 where ignored or padded. */
  readonly trainIds: Uint8Array;
}

export interface AugmentOptions {
  /** Random scale range; DeepLab trains Cityscapes with [0.5, 2.0]. */
  readonly scale: readonly [number, number];
  /** Crop size [height, width]; the paper searches with 321×321 (design §5). */
  readonly crop: readonly [number, number];
  /** Probability of a horizontal flip. */
  readonly flip: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** ImageNet statistics in 0–255 units, the usual normalisation of segmentation backbones. */
export const IMAGENET_MEAN = [123.675, 116.28, 103.53] as const;
export const IMAGENET_STD = [58.395, 57.12, 57.375] as const;

export const DEFAULT_AUGMENT: AugmentOptions = {
  scale: [0.5, 2.0],
  crop: [321, 321],
  flip: 0.5,
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
};

/**
 * Normalises and crops a `cropHeight × cropWidth` window whose top-left corner is (top, left) in the
 * image; the window may reach past the image, where pixels are 0 after normalisation (padding with
 * the mean, as DeepLab) and labels are 255. (A scaled crop at scale 1.)
 */
export function cropAndNormalize(
  sample: LabelledImage,
  top: number,
  left: number,
  crop: readonly [number, number],
  normalisation: Pick<AugmentOptions, 'mean' | 'std'>,
  flip = false,
): TrainingExample {
  return scaledCrop(sample, 1, top, left, crop, normalisation, flip);
}

/**
 * The crop of `image` scaled by `scale` whose top-left corner is (top, left) in the scaled image,
 * normalised, optionally flipped. Only the crop's pixels are resampled (bilinear with half-pixel
 * centres for the image, nearest for labels), so the cost does not grow with the image;
 * outside the scaled image pixels are 0 after normalisation and labels 255.
 */
export function scaledCrop(
  { image, trainIds }: LabelledImage,
  scale: number,
  top: number,
  left: number,
  [cropHeight, cropWidth]: readonly [number, number],
  { mean, std }: Pick<AugmentOptions, 'mean' | 'std'>,
  flip = false,
): TrainingExample {
  const { width: w0, height: h0, data } = image;
  const height = Math.max(1, Math.round(h0 * scale));
  const width = Math.max(1, Math.round(w0 * scale));
  const sy = h0 / height;
  const sx = w0 / width;
  const pixels = new Float32Array(cropHeight * cropWidth * 3);
  const labels = new Uint8Array(cropHeight * cropWidth).fill(IGNORE_INDEX);
  for (let y = 0; y < cropHeight; y++) {
    const scaledY = top + y;
    if (scaledY >= height) break;
    // The upper clamps below never bind (sy = h0 / height, so (scaledY + 0.5) · sy < h0) or bind
    // where both interpolated rows are the last one; they guard rounding only.
    const fy = Math.min(Math.max((scaledY + 0.5) * sy - 0.5, 0), h0 - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h0 - 1);
    const wy = fy - y0;
    const ny = Math.min(Math.floor((scaledY + 0.5) * sy), h0 - 1);
    for (let x = 0; x < cropWidth; x++) {
      const scaledX = left + (flip ? cropWidth - 1 - x : x);
      if (scaledX >= width) continue;
      const fx = Math.min(Math.max((scaledX + 0.5) * sx - 0.5, 0), w0 - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w0 - 1);
      const wx = fx - x0;
      const target = y * cropWidth + x;
      for (let c = 0; c < 3; c++) {
        const upper = data[(y0 * w0 + x0) * 3 + c] * (1 - wx) + data[(y0 * w0 + x1) * 3 + c] * wx;
        const lower = data[(y1 * w0 + x0) * 3 + c] * (1 - wx) + data[(y1 * w0 + x1) * 3 + c] * wx;
        pixels[target * 3 + c] = (Math.round(upper * (1 - wy) + lower * wy) - mean[c]) / std[c];
      }
      labels[target] = trainIds[ny * w0 + Math.min(Math.floor((scaledX + 0.5) * sx), w0 - 1)];
    }
  }
  return { height: cropHeight, width: cropWidth, pixels, trainIds: labels };
}

/**
 * Training augmentation (design §8): random scale, random crop (padding labels with 255 where the
 * scaled image is smaller than the crop), horizontal flip, per-channel normalisation. The same
 * generator state gives the same result.
 */
export function augment(sample: LabelledImage, options: AugmentOptions, random: SeededRandom): TrainingExample {
  const scale = random.uniform(options.scale[0], options.scale[1]);
  const height = Math.max(1, Math.round(sample.image.height * scale));
  const width = Math.max(1, Math.round(sample.image.width * scale));
  const [cropHeight, cropWidth] = options.crop;
  const top = random.int(Math.max(height - cropHeight, 0) + 1);
  const left = random.int(Math.max(width - cropWidth, 0) + 1);
  const flip = random.next() < options.flip;
  return scaledCrop(sample, scale, top, left, options.crop, options, flip);
}

/** Starts of `crop`-long windows, `step` apart, the last flush with the end, covering `length` (one window if it fits). */
export function windowStarts(length: number, crop: number, step: number): number[] {
  if (length <= crop) return [0];
  const positions: number[] = [];
  for (let p = 0; p + crop < length; p += step) positions.push(p);
  positions.push(length - crop);
  return positions;
}

/** Top-left corners of `crop`-sized windows, `stride` apart, covering a `height × width` image (eval). */
export function slidingWindows(height: number, width: number, [cropHeight, cropWidth]: readonly [number, number], stride: readonly [number, number] = [cropHeight, cropWidth]): [number, number][] {
  return windowStarts(height, cropHeight, stride[0]).flatMap((top) => windowStarts(width, cropWidth, stride[1]).map((left) => [top, left] as [number, number]));
}
