import { join } from 'node:path';
import { loadSample, type CityscapesSample } from '@adl/data-cityscapes';
import { ConfusionMatrix, type SegmentationMetrics } from './confusion-matrix.js';
import { writeEvaluationRecord, type PredictionFiles } from './evaluation-record.js';
import type { InferenceModel } from './model.js';
import type { Shard } from './shard.js';
import { predictTrainIds, type PredictOptions } from './predict.js';
import { writePredictionPngs } from './prediction-pngs.js';

export interface EvaluateOptions extends PredictOptions {
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  /** Where `predictions/`, `metrics.json` and `iou.md` go; nothing is written without it. */
  readonly outDir?: string;
  /** Images whose pictures are written: those at positions below it in the whole list (default all). */
  readonly imagesWritten?: number;
  /** The samples' shard of the whole list (item k in shard k mod N; default all of it), for `evaluation.json` and `imagesWritten`. */
  readonly shard?: Shard;
  /** What else identifies the evaluation in `evaluation.json` (the model, the split): shards merge only when it is equal. */
  readonly setting?: Readonly<Record<string, unknown>>;
  readonly onImage?: (done: number, total: number, name: string) => void;
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
 * `predictions/`, then `metrics.json` (with the list of those files), `iou.md` and `evaluation.json`
 * (the counts, for `mergeEvaluations`).
 */
export async function evaluateSamples(model: InferenceModel, samples: readonly CityscapesSample[], options: EvaluateOptions): Promise<EvaluationReport> {
  const { numClasses, outDir, classNames = [], imagesWritten = Infinity, scales = [1], flip = false, shard = { index: 0, count: 1 } } = options;
  const positionOf = (index: number) => index * shard.count + shard.index;
  const matrix = new ConfusionMatrix(numClasses);
  const files: PredictionFiles[] = [];
  const started = performance.now();
  for (const [index, sample] of samples.entries()) {
    const loaded = await loadSample(sample);
    const prediction = await predictTrainIds(model, loaded.image, options);
    matrix.update(prediction, loaded.trainIds);
    if (outDir) {
      // Every image's label ids go to submission/ (the official evaluation needs them all); pictures only for the first `imagesWritten`.
      const pictures = positionOf(index) < imagesWritten;
      const written = await writePredictionPngs(join(outDir, 'predictions'), loaded.name, loaded.image, prediction, loaded.trainIds, { labelIdsDir: join(outDir, 'submission'), pictures });
      const inPredictions = (file: string) => `predictions/${file}`;
      if (pictures) files.push({ name: loaded.name, labelIds: `submission/${written.labelIds}`, color: inPredictions(written.color), overlay: inPredictions(written.overlay), compare: inPredictions(written.compare!) });
    }
    options.onImage?.(index + 1, samples.length, loaded.name);
  }
  const metrics = matrix.metrics();
  const report: EvaluationReport = { metrics, images: samples.length, msPerImage: (performance.now() - started) / Math.max(samples.length, 1), scales, flip, files };
  if (outDir) {
    const images = samples.map((sample, index) => ({ name: sample.name, position: positionOf(index) }));
    const setting = { ...options.setting, numClasses, classNames, scales, flip, tile: options.tile ?? null };
    await writeEvaluationRecord(outDir, { setting, shard, images, counts: Array.from(matrix.counts), files });
  }
  return report;
}
