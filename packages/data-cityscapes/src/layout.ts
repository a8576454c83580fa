import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from './dataset-error.js';

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** One image of the Cityscapes layout and its fine label map (design §8). */
export interface CityscapesSample {
  readonly split: Split;
  readonly city: string;
  /** `<city>_<sequence>_<frame>`, e.g. `aachen_000000_000019`. */
  readonly name: string;
  /** Paths relative to the dataset root, for messages. */
  readonly imageFile: string;
  readonly labelFile: string;
  readonly root: string;
}

export const IMAGE_SUFFIX = '_leftImg8bit.png';
export const LABEL_SUFFIX = '_gtFine_labelIds.png';
/** Instance ids (label id × 1000 + instance for objects; the label id where there is none). */
export const INSTANCE_SUFFIX = '_gtFine_instanceIds.png';

export function imageFileOf(split: Split, city: string, name: string): string {
  return join('leftImg8bit', split, city, `${name}${IMAGE_SUFFIX}`);
}

export function labelFileOf(split: Split, city: string, name: string): string {
  return join('gtFine', split, city, `${name}${LABEL_SUFFIX}`);
}

export function instanceFileOf(split: Split, city: string, name: string): string {
  return join('gtFine', split, city, `${name}${INSTANCE_SUFFIX}`);
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The folder of a split's images under a dataset root (errors about a split name it). */
export function splitFolder(root: string, split: Split): string {
  return join(root, 'leftImg8bit', split);
}

/**
 * Lists the images of a split, paired with their labels by name, sorted by city and name.
 * Throws `DatasetError` for a missing `leftImg8bit/<split>` or `gtFine/<split>` folder and for an
 * image without its label.
 */
export async function listSplit(root: string, split: Split): Promise<CityscapesSample[]> {
  const imageDir = join('leftImg8bit', split);
  const labelDir = join('gtFine', split);
  for (const dir of [imageDir, labelDir]) {
    if (!(await isDirectory(join(root, dir)))) {
      throw new DatasetError(dir, `missing folder under ${root} (expected leftImg8bit/{train,val,test}/<city>/ and gtFine/… as in Cityscapes)`);
    }
  }
  const samples: CityscapesSample[] = [];
  const cities = (await readdir(join(root, imageDir), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const city of cities) {
    const labels = new Set(await readdir(join(root, labelDir, city)).catch(() => [] as string[]));
    const images = (await readdir(join(root, imageDir, city))).filter((file) => file.endsWith(IMAGE_SUFFIX)).sort();
    for (const file of images) {
      const name = file.slice(0, -IMAGE_SUFFIX.length);
      const labelFile = labelFileOf(split, city, name);
      if (!labels.has(`${name}${LABEL_SUFFIX}`)) {
        throw new DatasetError(imageFileOf(split, city, name), `no label ${labelFile}`);
      }
      samples.push({ split, city, name, imageFile: imageFileOf(split, city, name), labelFile, root });
    }
  }
  return samples;
}
