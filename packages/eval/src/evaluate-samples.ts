import { join } from 'node:path';
import { loadSample, writeFileAtomic, type CityscapesSample } from '@adl/data-cityscapes';
import { ConfusionMatrix, type SegmentationMetrics } from './confusion-matrix.js';
import { iouTableJson, iouTableMarkdown } from './iou-table.js';
import type { InferenceModel } from './model.js';
import { predictTrainIds, type PredictOptions } from './predict.js';
import { writePredictionPngs } from './prediction-pngs.js';

export interface EvaluateOptions extends PredictOptions {
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  /** Where `predictions/`, `metrics.json` and `iou.md` go; nothing is written without it. */
  readonly outDir?: string;
  /** Images whose PNGs are written (the first ones; default all). */
  readonly imagesWritten?: number;
  readonly onImage?: (done: number, total: number, name: string) => void;
}

/** The PNGs written for one image, relative to `outDir`. */
export interface PredictionFiles {
  readonly name: string;
  /** Label ids, the Cityscapes submission format, alone in `submission/` (the official scripts' `CITYSCAPES_RESULTS`). */
  readonly labelIds: string;
  /** Prediction in the Cityscapes colours. */
  readonly color: string;
  /** Prediction blended over the image. */
  readonly overlay: string;
  /** Image | prediction | ground truth. */
  readonly compare: string;
}

export interface EvaluationReport {
  readonly metrics: SegmentationMetrics;
  readonly images: number;
  /** Mean wall time per image (decode, inference, scoring). */
  readonly msPerImage: number;
  readonly scales: readonly number[];
  readonly flip: boolean;
  readonly files: PredictionFiles[];
}

/**
 * Predicts every sample's full image (see `predictTrainIds`), scores it against its label in one
 * confusion matrix and, with `outDir`, writes per image `submission/<name>_labelIds.png` (nothing else
 * there: the folder the official cityscapesScripts evaluation reads as `CITYSCAPES_RESULTS`, and the
 * one to zip for a test-set submission) and `_color.png`, `_overlay.png`, `_compare.png` under
 * `predictions/`, then `metrics.json` (with the list of those files) and `iou.md`.
 */
export async function evaluateSamples(model: InferenceModel, samples: readonly CityscapesSample[], options: EvaluateOptions): Promise<EvaluationReport> {
  const { numClasses, outDir, classNames = [], imagesWritten = Infinity, scales = [1], flip = false } = options;
  const matrix = new ConfusionMatrix(numClasses);
  const files: PredictionFiles[] = [];
  const started = performance.now();
  for (const [index, sample] of samples.entries()) {
    const loaded = await loadSample(sample);
    const prediction = await predictTrainIds(model, loaded.image, options);
    matrix.update(prediction, loaded.trainIds);
    if (outDir) {
      // Every image's label ids go to submission/ (the official evaluation needs them all); pictures only for the first `imagesWritten`.
      const pictures = index < imagesWritten;
      const written = await writePredictionPngs(join(outDir, 'predictions'), loaded.name, loaded.image, prediction, loaded.trainIds, { labelIdsDir: join(outDir, 'submission'), pictures });
      const inPredictions = (file: string) => `predictions/${file}`;
      if (pictures) files.push({ name: loaded.name, labelIds: `submission/${written.labelIds}`, color: inPredictions(written.color), overlay: inPredictions(written.overlay), compare: inPredictions(written.compare!) });
    }
    options.onImage?.(index + 1, samples.length, loaded.name);
  }
  const metrics = matrix.metrics();
  const report: EvaluationReport = { metrics, images: samples.length, msPerImage: (performance.now() - started) / Math.max(samples.length, 1), scales, flip, files };
  if (outDir) {
    const table = iouTableJson(metrics, classNames);
    await writeFileAtomic(join(outDir, 'metrics.json'), `${JSON.stringify({ ...table, images: report.images, msPerImage: report.msPerImage, scales, flip, files }, null, 2)}\n`);
    await writeFileAtomic(join(outDir, 'iou.md'), `${iouTableMarkdown(metrics, classNames)}\n`);
  }
  return report;
}
