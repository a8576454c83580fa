export { ConfusionMatrix, type ClassIds, type SegmentationMetrics } from './confusion-matrix.js';
export { iouRows, iouTableJson, iouTableMarkdown, type IouRow } from './iou-table.js';
