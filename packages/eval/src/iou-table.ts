import type { SegmentationMetrics } from './confusion-matrix.js';

export interface IouRow {
  readonly trainId: number;
  readonly name: string;
  /** Null where the class is absent from labels and predictions (left out of the mean). */
  readonly iou: number | null;
}

/** Per-class rows with names (`TRAIN_CLASS_NAMES` of `@adl/data-cityscapes` for Cityscapes). */
export function iouRows(metrics: SegmentationMetrics, classNames: readonly string[]): IouRow[] {
  return metrics.iou.map((iou, trainId) => ({ trainId, name: classNames[trainId] ?? `class ${trainId}`, iou: Number.isNaN(iou) ? null : iou }));
}

const percent = (value: number | null) => (value === null ? '—' : (100 * value).toFixed(1));

/** The per-class IoU table in Markdown (percentages), with mIoU and pixel accuracy last. */
export function iouTableMarkdown(metrics: SegmentationMetrics, classNames: readonly string[]): string {
  const rows = iouRows(metrics, classNames).map((row) => `| ${row.trainId} | ${row.name} | ${percent(row.iou)} |`);
  return [
    '| id | class | IoU (%) |',
    '| ---: | --- | ---: |',
    ...rows,
    `| | **mIoU** | **${percent(Number.isNaN(metrics.miou) ? null : metrics.miou)}** |`,
    `| | pixel accuracy | ${percent(Number.isNaN(metrics.pixelAccuracy) ? null : metrics.pixelAccuracy)} |`,
  ].join('\n');
}

/** The same as JSON-ready data (NaN becomes null). */
export function iouTableJson(metrics: SegmentationMetrics, classNames: readonly string[]) {
  const finite = (value: number) => (Number.isNaN(value) ? null : value);
  return { miou: finite(metrics.miou), pixelAccuracy: finite(metrics.pixelAccuracy), pixels: metrics.pixels, classes: iouRows(metrics, classNames) };
}
