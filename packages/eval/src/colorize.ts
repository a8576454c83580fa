import { IGNORE_INDEX, TRAIN_ID_PALETTE, TRAIN_ID_TO_LABEL_ID, type RasterImage } from '@adl/data-cityscapes';
import type { ClassIds } from './confusion-matrix.js';

/** Train ids → an RGB image in the Cityscapes colours; ignored (255) and unknown ids are black. */
export function colorizeTrainIds(trainIds: ClassIds, height: number, width: number, palette: readonly (readonly [number, number, number])[] = TRAIN_ID_PALETTE): RasterImage {
  const data = new Uint8Array(height * width * 3);
  for (let i = 0; i < height * width; i++) {
    const colour = palette[trainIds[i]];
    if (colour) data.set(colour, i * 3);
  }
  return { width, height, channels: 3, data };
}

/** Train ids → Cityscapes label ids (the benchmark's submission format); ignored pixels become 0 (unlabeled). */
export function trainIdsToLabelIds(trainIds: ClassIds, height: number, width: number): RasterImage {
  const data = new Uint8Array(height * width);
  for (let i = 0; i < height * width; i++) data[i] = trainIds[i] === IGNORE_INDEX ? 0 : (TRAIN_ID_TO_LABEL_ID[trainIds[i]] ?? 0);
  return { width, height, channels: 1, data };
}

/** `over` blended onto `base` with weight `opacity` (both RGB, same size). */
export function blend(base: RasterImage, over: RasterImage, opacity = 0.5): RasterImage {
  if (base.width !== over.width || base.height !== over.height || base.channels !== 3 || over.channels !== 3) {
    throw new Error(`blend: ${base.width}×${base.height}×${base.channels} and ${over.width}×${over.height}×${over.channels} differ or are not RGB`);
  }
  const data = new Uint8Array(base.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(base.data[i] * (1 - opacity) + over.data[i] * opacity);
  return { ...base, data };
}

/** RGB images of the same height placed left to right with `gap` white columns between them. */
export function sideBySide(images: readonly RasterImage[], gap = 4): RasterImage {
  const height = images[0].height;
  if (images.some((image) => image.height !== height || image.channels !== 3)) throw new Error('sideBySide: images must be RGB of the same height');
  const width = images.reduce((sum, image) => sum + image.width, 0) + gap * (images.length - 1);
  const data = new Uint8Array(height * width * 3).fill(255);
  let left = 0;
  for (const image of images) {
    for (let y = 0; y < height; y++) data.set(image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3), (y * width + left) * 3);
    left += image.width + gap;
  }
  return { width, height, channels: 3, data };
}
