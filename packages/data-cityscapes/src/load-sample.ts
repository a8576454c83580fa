import { join } from 'node:path';
import { DatasetError } from './dataset-error.js';
import { MAX_LABEL_ID, TRAIN_ID_LUT } from './labels.js';
import type { CityscapesSample } from './layout.js';
import { readPng, type RasterImage } from './png.js';

/** An image with its label map already in train ids (255 = ignored). */
export interface LoadedSample {
  readonly name: string;
  readonly image: RasterImage;
  readonly trainIds: Uint8Array;
}

async function decode(root: string, file: string, channels: 1 | 3): Promise<RasterImage> {
  try {
    return await readPng(join(root, file), channels);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new DatasetError(file, `cannot decode PNG (${reason})`);
  }
}

/**
 * Decodes an image and its label map, checks they have the same size and that every label value is a
 * Cityscapes label id (0–33), and maps labels to train ids.
 */
export async function loadSample(sample: CityscapesSample): Promise<LoadedSample> {
  const [image, label] = await Promise.all([decode(sample.root, sample.imageFile, 3), decode(sample.root, sample.labelFile, 1)]);
  if (image.width !== label.width || image.height !== label.height) {
    throw new DatasetError(sample.labelFile, `${label.height}×${label.width} label for a ${image.height}×${image.width} image`);
  }
  const trainIds = new Uint8Array(label.data.length);
  for (let i = 0; i < label.data.length; i++) {
    const id = label.data[i];
    if (id > MAX_LABEL_ID) {
      const x = i % label.width;
      const y = Math.floor(i / label.width);
      throw new DatasetError(sample.labelFile, `value ${id} at (x ${x}, y ${y}) is not a Cityscapes label id (0–${MAX_LABEL_ID})`);
    }
    trainIds[i] = TRAIN_ID_LUT[id];
  }
  return { name: sample.name, image, trainIds };
}
