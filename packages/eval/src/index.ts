export { ConfusionMatrix, type ClassIds, type SegmentationMetrics } from './confusion-matrix.js';
