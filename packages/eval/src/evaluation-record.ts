import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@adl/data-cityscapes';
import { ConfusionMatrix, type SegmentationMetrics } from './confusion-matrix.js';
import { iouTableJson, iouTableMarkdown } from './iou-table.js';
import { predictionPngNames } from './prediction-pngs.js';
import type { Shard } from './shard.js';

/** The PNGs written for one image, relative to the output folder. */
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

/**
 * What an evaluation folder holds besides its PNGs, as `evaluation.json`: enough to add shards of one
 * evaluation into the folder an unsharded run writes (`mergeEvaluations`).
 */
export interface EvaluationRecord {
  /** What must be equal for counts to be added: the model and how it was run (scales, flip, tile, …). */
  readonly setting: { readonly numClasses: number; readonly classNames: readonly string[]; readonly scales: readonly number[]; readonly flip: boolean; readonly [key: string]: unknown };
  readonly shard: Shard;
  /** The images scored, each with its position in the unsharded list. */
  readonly images: readonly { readonly name: string; readonly position: number }[];
  /** Confusion counts, `counts[label · n + prediction]`. */
  readonly counts: readonly number[];
  readonly files: readonly PredictionFiles[];
}

export const EVALUATION_RECORD = 'evaluation.json';

export class MergeError extends Error {
  override readonly name = 'MergeError';
}

function matrixOf({ setting, counts }: EvaluationRecord): ConfusionMatrix {
  const matrix = new ConfusionMatrix(setting.numClasses);
  matrix.counts.set(counts);
  return matrix;
}

/** The metrics of a record's counts. */
export function recordMetrics(record: EvaluationRecord): SegmentationMetrics {
  return matrixOf(record).metrics();
}

/** Writes `metrics.json` and `iou.md` (the same bytes for the same images and counts, however they were sharded) and `evaluation.json`. */
export async function writeEvaluationRecord(outDir: string, record: EvaluationRecord): Promise<void> {
  const { classNames, scales, flip } = record.setting;
  const metrics = recordMetrics(record);
  await writeFileAtomic(join(outDir, 'metrics.json'), `${JSON.stringify({ ...iouTableJson(metrics, classNames), images: record.images.length, scales, flip, files: record.files }, null, 2)}\n`);
  await writeFileAtomic(join(outDir, 'iou.md'), `${iouTableMarkdown(metrics, classNames)}\n`);
  await writeFileAtomic(join(outDir, EVALUATION_RECORD), `${JSON.stringify(record)}\n`);
}

async function readRecord(dir: string): Promise<EvaluationRecord> {
  const file = join(dir, EVALUATION_RECORD);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new MergeError(`${file}: cannot read (${error.code}): not the output folder of an adl eval with --out`);
  });
  try {
    return JSON.parse(text) as EvaluationRecord;
  } catch (error) {
    throw new MergeError(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Adds the shards of one evaluation (the `outDir`s of `adl eval --shard i/N` for every i) into `outDir`:
 * their counts, their PNGs (copied), and `metrics.json` / `iou.md` equal byte for byte to what one
 * unsharded evaluation writes. Refuses, naming the folders, shards of different settings or counts,
 * a shard given twice, a missing shard, and an image in two shards.
 */
export async function mergeEvaluations(dirs: readonly string[], outDir: string): Promise<EvaluationRecord> {
  if (dirs.length === 0) throw new MergeError('no evaluation folders to merge');
  const records = await Promise.all(dirs.map(readRecord));
  const [first] = records;
  const settingOf = (record: EvaluationRecord) => JSON.stringify(record.setting);
  const byIndex = new Map<number, string>();
  records.forEach((record, i) => {
    if (settingOf(record) !== settingOf(first)) throw new MergeError(`${dirs[i]} and ${dirs[0]} were evaluated differently: ${settingOf(record)} against ${settingOf(first)}`);
    if (record.shard.count !== first.shard.count) throw new MergeError(`${dirs[i]} is shard ${record.shard.index}/${record.shard.count}, ${dirs[0]} one of ${first.shard.count}`);
    const twin = byIndex.get(record.shard.index);
    if (twin !== undefined) throw new MergeError(`${twin} and ${dirs[i]} are both shard ${record.shard.index}/${record.shard.count}`);
    byIndex.set(record.shard.index, dirs[i]);
  });
  const missing = Array.from({ length: first.shard.count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) throw new MergeError(`shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${first.shard.count} missing (given: ${[...byIndex.keys()].sort((a, b) => a - b).join(', ')})`);
  const seen = new Map<string, string>();
  for (const [i, record] of records.entries()) {
    for (const { name } of record.images) {
      if (seen.has(name)) throw new MergeError(`${name} is in both ${seen.get(name)} and ${dirs[i]}`);
      seen.set(name, dirs[i]);
    }
  }
  const counts = Array.from(records.map(matrixOf).reduce((sum, matrix) => sum.merge(matrix)).counts);
  const images = records.flatMap((record) => record.images).sort((a, b) => a.position - b.position);
  const positionOf = new Map(images.map(({ name, position }) => [name, position]));
  const files = records.flatMap((record) => record.files).sort((a, b) => positionOf.get(a.name)! - positionOf.get(b.name)!);
  // The PNGs of each shard: every image's label ids, the pictures of those that have them.
  for (const [i, record] of records.entries()) {
    const pictures = new Map(record.files.map((f) => [f.name, [f.color, f.overlay, f.compare]]));
    for (const { name } of record.images) {
      for (const file of [`submission/${predictionPngNames(name).labelIds}`, ...(pictures.get(name) ?? [])]) {
        await mkdir(join(outDir, file, '..'), { recursive: true });
        await copyFile(join(dirs[i], file), join(outDir, file));
      }
    }
  }
  const merged: EvaluationRecord = { setting: first.setting, shard: { index: 0, count: 1 }, images, counts, files };
  await writeEvaluationRecord(outDir, merged);
  return merged;
}
