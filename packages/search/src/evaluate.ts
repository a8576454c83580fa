import * as tf from '@tensorflow/tfjs';
import { cropAndNormalize, IMAGENET_MEAN, IMAGENET_STD, loadSample, type CityscapesSample } from '@adl/data-cityscapes';
import { ConfusionMatrix, type SegmentationMetrics } from '@adl/eval';
import type { Kernels } from '@adl/ops';
import type { SegmentationModel } from './train-step.js';

/** Full-image predictions of `samples` in evaluation mode (BN running statistics), scored. */
export async function evaluateModel(model: SegmentationModel, samples: readonly CityscapesSample[], numClasses: number, kernels: Kernels): Promise<SegmentationMetrics> {
  const matrix = new ConfusionMatrix(numClasses);
  for (const sample of samples) {
    const loaded = await loadSample(sample);
    const { height, width } = loaded.image;
    const example = cropAndNormalize(loaded, 0, 0, [height, width], { mean: IMAGENET_MEAN, std: IMAGENET_STD });
    const prediction = tf.tidy(() => tf.argMax(model.apply(tf.tensor4d(example.pixels, [1, height, width, 3]), { training: false, kernels }), 3));
    matrix.update((await prediction.data()) as Int32Array, example.trainIds);
    prediction.dispose();
  }
  return matrix.metrics();
}
