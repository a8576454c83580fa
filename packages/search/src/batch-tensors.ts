import * as tf from '@tensorflow/tfjs';
import type { Batch } from '@adl/data-cityscapes';

/** A loader batch as tensors: images [N, H, W, 3] float32, labels [N, H, W] int32. */
export function batchTensors(batch: Batch): { images: tf.Tensor4D; labels: tf.Tensor3D } {
  return {
    images: tf.tensor4d(batch.images, [batch.size, batch.height, batch.width, 3]),
    labels: tf.tensor3d(Int32Array.from(batch.trainIds), [batch.size, batch.height, batch.width], 'int32'),
  };
}
