import { join } from 'node:path';
import { DatasetError } from './dataset-error.js';
import { MAX_LABEL_ID, TRAIN_ID_LUT } from './labels.js';
import type { CityscapesSample } from './layout.js';
import { readLabelPng, readPng, type RasterImage } from './png.js';

/** An image with its label map already in train ids (255 = ignored). */
export interface LoadedSample {
  readonly name: string;
  readonly image: RasterImage;
  readonly trainIds: Uint8Array;
}

/** Decodes with `read`; a file it cannot read becomes a `DatasetError` naming it. */
async function decode<T>(root: string, file: string, read: (path: string) => Promise<T>): Promise<T> {
  try {
    return await read(join(root, file));
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new DatasetError(file, `cannot decode PNG (${reason})`);
  }
}

/**
 * Decodes an image and its label map (8- or 16-bit ids), checks they have the same size and that every label value is a
 * Cityscapes label id (0–33), and maps labels to train ids.
 */
export async function loadSample(sample: CityscapesSample): Promise<LoadedSample> {
  const [image, label] = await Promise.all([decode(sample.root, sample.imageFile, (path) => readPng(path, 3)), decode(sample.root, sample.labelFile, readLabelPng)]);
  if (image.width !== label.width || image.height !== label.height) {
    throw new DatasetError(sample.labelFile, `${label.height}×${label.width} label for a ${image.height}×${image.width} image`);
  }
  const trainIds = new Uint8Array(label.ids.length);
  for (let i = 0; i < label.ids.length; i++) {
    const id = label.ids[i];
    if (id > MAX_LABEL_ID) {
      const x = i % label.width;
      const y = Math.floor(i / label.width);
      throw new DatasetError(sample.labelFile, `value ${id} at (x ${x}, y ${y}) is not a Cityscapes label id (0–${MAX_LABEL_ID})`);
    }
    trainIds[i] = TRAIN_ID_LUT[id];
  }
  return { name: sample.name, image, trainIds };
}
