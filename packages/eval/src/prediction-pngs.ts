import { join } from 'node:path';
import { writePng, type RasterImage } from '@adl/data-cityscapes';
import type { ClassIds } from './confusion-matrix.js';
import { blend, colorizeTrainIds, sideBySide, trainIdsToLabelIds } from './colorize.js';

/** File names (in one folder) of the pictures of one prediction. */
export interface PredictionPngs {
  /** Label ids, the Cityscapes submission format. */
  readonly labelIds: string;
  /** Prediction in the Cityscapes colours. */
  readonly color: string;
  /** Prediction blended over the image. */
  readonly overlay: string;
  /** Image | prediction | ground truth, when the ground truth is given. */
  readonly compare?: string;
}

/** The names `writePredictionPngs` gives the PNGs of the image `stem` (`compare` only with a ground truth). */
export function predictionPngNames(stem: string, withGroundTruth = false): PredictionPngs {
  return { labelIds: `${stem}_labelIds.png`, color: `${stem}_color.png`, overlay: `${stem}_overlay.png`, compare: withGroundTruth ? `${stem}_compare.png` : undefined };
}

/**
 * Writes `<stem>_labelIds.png` (into `labelIdsDir`, default `dir`) and, unless `pictures` is false,
 * `_color.png`, `_overlay.png` and, with `groundTruth` (train ids), `_compare.png` into `dir`;
 * returns their names.
 */
export async function writePredictionPngs(dir: string, stem: string, image: RasterImage, prediction: ClassIds, groundTruth?: ClassIds, { labelIdsDir = dir, pictures = true } = {}): Promise<PredictionPngs> {
  const { height, width } = image;
  const names = predictionPngNames(stem, groundTruth !== undefined);
  const colour = colorizeTrainIds(prediction, height, width);
  await writePng(join(labelIdsDir, names.labelIds), trainIdsToLabelIds(prediction, height, width));
  if (!pictures) return names;
  await writePng(join(dir, names.color), colour);
  await writePng(join(dir, names.overlay), blend(image, colour, 0.55));
  if (groundTruth && names.compare) await writePng(join(dir, names.compare), sideBySide([image, colour, colorizeTrainIds(groundTruth, height, width)]));
  return names;
}
