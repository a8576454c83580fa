import type { CityscapesSample } from '@adl/data-cityscapes';
import { evaluateSamples, type SegmentationMetrics } from '@adl/eval';
import type { Kernels } from '@adl/backend';
import type { SegmentationModel } from './train-step.js';

/** Full-image predictions of `samples` in evaluation mode (BN running statistics), scored. */
export async function evaluateModel(model: SegmentationModel, samples: readonly CityscapesSample[], numClasses: number, kernels: Kernels): Promise<SegmentationMetrics> {
  return (await evaluateSamples(model, samples, { kernels, numClasses })).metrics;
}
